"""The yardstick of bench_http.py: a bare Flask + SQLAlchemy endpoint doing two indexed lookups
(the token, then the team), with nothing else. Our real endpoint is measured against it."""
import hashlib
import os

from flask import Flask, abort, request
from sqlalchemy import text

from oncall.db import make_engine

engine = make_engine(os.environ["ONCALL_DATABASE_URL"])
app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/v1/teams/<int:team_id>/oncall")
def team(team_id: int):
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    with engine.connect() as conn:
        user = conn.execute(text("SELECT user_id FROM api_tokens WHERE token_hash = :h"),
                            {"h": hashlib.sha256(token.encode()).hexdigest()}).first()
        if user is None:
            abort(401)
        row = conn.execute(text("SELECT id, name FROM teams WHERE id = :id"), {"id": team_id}).first()
    return {"id": row.id, "name": row.name}
