"""The browser tests' server: the app on a free port of 127.0.0.1, with a migrated SQLite file of its own."""
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serve(tmp_path_factory, name: str) -> Iterator[tuple]:
    """Yields (app, base URL) while the server answers in a thread; its PUBLIC_URL is that base."""
    from werkzeug.serving import make_server

    from oncall import create_app
    from oncall.db import get_engine
    from oncall.schema import upgrade

    db = tmp_path_factory.mktemp(name) / "oncall.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "browser-test", "PUBLIC_URL": "http://127.0.0.1"})
    with app.app_context():
        upgrade()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{httpd.server_port}"
    app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base
    finally:
        httpd.shutdown()
        thread.join()
        get_engine(app).dispose()
