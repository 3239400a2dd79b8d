"""The one place that reads the wall clock; everything else takes `now` as an argument."""
from datetime import datetime, timezone

UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone offset")
    return value.astimezone(UTC)


def isoformat_z(value: datetime) -> str:
    """RFC 3339 in UTC with a trailing Z, as the public API promises."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
