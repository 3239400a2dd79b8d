# The service as docs/deployment.md deploys it: the wheel (templates, static files and migrations inside), at the
# versions constraints.txt pins, run by an unprivileged user. Default command: the web; `oncall worker` for workers.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
COPY --from=build /dist/ /tmp/dist/
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/oncall-*.whl \
    && rm -rf /tmp/dist /tmp/constraints.txt \
    && useradd --system --no-create-home --shell /usr/sbin/nologin oncall
USER oncall
WORKDIR /tmp
ENV ONCALL_ENV=production ONCALL_PROXY_COUNT=1 PYTHONUNBUFFERED=1
EXPOSE 8000
# /healthz answers 200 while the web works (ok or degraded), 503 when the database is down.
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "30", "oncall.wsgi:make_app()"]
