"""The one place that reads a clock (the host's, or the database's); everything else takes `now` as an argument."""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import func, select

UTC = timezone.utc


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _wall_clock


def utcnow() -> datetime:
    return _source()


@contextmanager
def reading(source: Callable[[], datetime]) -> Iterator[None]:
    """Inside the block, `utcnow()` answers `source()` instead of the wall clock, in every thread of this
    process (tests set the date this way, so no test depends on the day it runs)."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous


def is_set() -> bool:
    """Whether a test has set the time (`reading`): the database's clock then yields to it too
    (database_now), so a test that sets the date sets it for leases and due times as well."""
    return _source is not _wall_clock


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone offset")
    return value.astimezone(UTC)


def isoformat_z(value: datetime) -> str:
    """RFC 3339 in UTC with a trailing Z, as the public API promises."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def database_now(db) -> datetime:
    """The database's clock, read through a Session or a Connection at this moment (clock_timestamp(), not the
    transaction's start): what leases, due times and freshness stamps that several processes compare must use,
    since application hosts' clocks drift apart. On SQLite every process shares one host, whose clock SQLite
    reads. A test that set the time (`reading`) gets that instead, so its date holds for these too."""
    if is_set():
        return utcnow()
    dialect = db.dialect if hasattr(db, "dialect") else db.get_bind().dialect
    if dialect.name == "postgresql":
        return db.execute(select(func.clock_timestamp())).scalar_one().astimezone(UTC)
    value = db.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
