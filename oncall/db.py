"""Declarative base, engine and session setup; one session per request on `g`."""
from datetime import date, datetime, time, timezone
from time import monotonic as time_monotonic

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.exc import DisconnectionError
from sqlalchemy import Date, DateTime, Engine, MetaData, String, Time, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

UTC = timezone.utc

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """timestamptz on PostgreSQL; on SQLite (no zone support) stored as UTC and read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), date: Date(), time: Time(), str: String(255)}


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _fix_sqlite_transactions(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, connect_args={"options": "-c timezone=utc"}, **kwargs)
    _ping_idle_connections(engine)
    return engine


# A pooled connection unused for this long is tested before use (the server may have restarted meanwhile).
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    """pool_pre_ping, but only for connections that sat idle: under load a connection is reused within
    milliseconds and the ping would be one more round trip on every request (about 6% of throughput on the
    on-call endpoint). A connection that fails the ping is replaced before the request sees it."""

    @event.listens_for(engine.pool, "checkin")
    def _remember_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in_at"] = time_monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        if time_monotonic() - record.info.get("checked_in_at", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:  # any failure here means this connection is unusable
            raise DisconnectionError("stale pooled connection") from exc


def _fix_sqlite_transactions(engine: Engine) -> None:
    # pysqlite opens transactions lazily and breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (documented recipe), and turn on WAL so readers do not block the writer.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front, so a transaction that reads and then writes waits for
        # other writers (busy timeout) instead of failing with "database is locked" when it upgrades.
        # Read-only sessions (see init_app) stay DEFERRED so readers never queue behind writers.
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'IMMEDIATE')}")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    read_engine = engine.execution_options(sqlite_begin="DEFERRED")
    if engine.dialect.name == "postgresql":
        # Reads under READ COMMITTED get a fresh snapshot per statement inside a transaction too, so for a
        # request that only reads, BEGIN and COMMIT are two round trips that buy nothing.
        read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    read_sessions = sessionmaker(bind=read_engine, expire_on_commit=False, info={"read_only": True})
    app.extensions["oncall_db"] = {"engine": engine, "read_engine": read_engine, "sessions": sessions,
                                   "read_sessions": read_sessions}

    @app.teardown_appcontext
    def _close_session(exc):
        try:
            _end_request_session(exc)
        finally:
            for callback in g.pop("after_request_session", ()):
                callback()

    def _end_request_session(exc):
        session = g.pop("db_session", None)
        if session is None:
            return
        try:
            if (exc is None and not session.info.get("wrote") and not session.info.get("read_only")
                    and session.in_transaction()):
                # A request that happened not to write: end it with COMMIT, since psycopg drops its prepared
                # statements on ROLLBACK and every request would be planned afresh. Anything written and not
                # committed by the view is still rolled back by close(). (Read-only sessions need neither:
                # on PostgreSQL they run without a transaction.)
                session.commit()
        finally:
            session.close()



def after_request_session(callback) -> None:
    """Call `callback()` once this request's session has ended and released its locks: for bookkeeping that
    writes in a transaction of its own, even in a request that only reads (or fails)."""
    g.setdefault("after_request_session", []).append(callback)


def _note_write(session: Session) -> None:
    if session.info.get("read_only"):
        raise RuntimeError("a read-only request (GET under /api/ or /calendars/) tried to write")
    session.info["wrote"] = True


@event.listens_for(Session, "before_flush")
def _remember_writes(session: Session, _context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        _note_write(session)


@event.listens_for(Session, "do_orm_execute")
def _remember_statement_writes(state) -> None:
    # Bulk UPDATE/DELETE/INSERT through session.execute() write without a flush.
    if not state.is_select:
        _note_write(state.session)


@event.listens_for(Session, "after_commit")
def _forget_writes(session: Session) -> None:
    session.info.pop("wrote", None)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_writes(session: Session) -> None:
    session.info.pop("wrote", None)


def upsert_insert(session: Session, table):
    """INSERT for `table` (a model or Table) in the session's dialect, which knows ON CONFLICT: the only
    statement whose SQL differs between SQLite and PostgreSQL, so it is built in this one place."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def get_sessionmaker(app: Flask | None = None) -> sessionmaker:
    return (app or current_app).extensions["oncall_db"]["sessions"]


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["oncall_db"]["engine"]


def get_read_engine(app: Flask | None = None) -> Engine:
    """The engine for work that only reads: never takes SQLite's write lock, no transaction on PostgreSQL."""
    return (app or current_app).extensions["oncall_db"]["read_engine"]


# GET requests here only read; on PostgreSQL they run without a transaction (see init_app).
READ_ONLY_PREFIXES = ("/api/", "/calendars/")


def get_session() -> Session:
    if "db_session" not in g:
        kind = "sessions"
        if has_request_context() and request.method in ("GET", "HEAD") and request.path.startswith(READ_ONLY_PREFIXES):
            kind = "read_sessions"
        g.db_session = current_app.extensions["oncall_db"][kind]()
    return g.db_session
