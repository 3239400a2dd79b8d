"""The one place that reads the wall clock; everything else takes `now` as an argument."""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

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


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone offset")
    return value.astimezone(UTC)


def isoformat_z(value: datetime) -> str:
    """RFC 3339 in UTC with a trailing Z, as the public API promises."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
