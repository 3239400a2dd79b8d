"""Marshmallow fields shared by every domain's schemas: time zones, phones, wall-clock times."""
import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Ids are 32-bit in every database we run on; larger numbers are refused before they reach a driver.
MAX_ID = 2**31 - 1


class Id(fields.Integer):
    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class IdConverter(IntegerConverter):
    """<int:...> in URLs, bounded like Id so /users/99999999999999999999 is a 404, not a driver error."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_converter_doc(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def is_time_zone(name: str) -> bool:
    # ZoneInfo alone accepts paths like "../etc" on some platforms; the IANA list is the authority.
    if not isinstance(name, str) or name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


class TimeZone(fields.String):
    default_error_messages = {"invalid_zone": "Not a known IANA time zone (e.g. 'America/New_York')."}

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        if not is_time_zone(name):
            raise self.make_error("invalid_zone")
        return name


class Phone(fields.String):
    default_error_messages = {"invalid_phone": "Phone numbers must be E.164, e.g. '+14155550101'."}

    def _deserialize(self, value, attr, data, **kwargs):
        phone = super()._deserialize(value, attr, data, **kwargs)
        if not E164.match(phone):
            raise self.make_error("invalid_phone")
        return phone


class WallClock(fields.Field):
    """A local wall-clock time written "HH:MM" (seconds are not part of any schedule)."""

    default_error_messages = {"invalid": "Expected a time as 'HH:MM' (24-hour)."}
    _PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not (m := self._PATTERN.match(value)):
            raise self.make_error("invalid")
        return time(int(m.group(1)), int(m.group(2)))

    def _jsonschema_type_mapping(self):  # pragma: no cover - documentation only
        return {"type": "string", "pattern": self._PATTERN.pattern}


def require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValidationError({field: [message]})
