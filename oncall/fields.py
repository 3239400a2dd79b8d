"""Marshmallow fields shared by every domain's schemas: names and free text, time zones, phones, wall-clock
times."""
import re
from datetime import time
from functools import lru_cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

from oncall.plaintext import LINE_BREAK, first_control

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Ids are 32-bit in every database we run on; larger numbers are refused before they reach a driver.
MAX_ID = 2**31 - 1


class Id(fields.Integer):
    """A database id. Strict in JSON bodies ("1" is not an id there); query strings are text by nature, so
    their schemas pass strict=False."""

    def __init__(self, *, strict: bool = True, **kwargs) -> None:
        super().__init__(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class IdConverter(IntegerConverter):
    """<int:...> in URLs, bounded like Id so /users/99999999999999999999 is a 404, not a driver error."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_converter_doc(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


# Names in the IANA database that are not places: "Factory" is tzdata's placeholder for machines whose zone
# is unset (abbreviation "-00"); anything else outside tzdata's list ("localtime", "posixrules") is a file of
# this machine's zoneinfo directory, whose meaning changes with the machine.
NOT_A_PLACE = frozenset({"Factory"})


def is_time_zone(name: object) -> bool:
    """The one check for a time zone name, wherever one is accepted: an IANA name of a place."""
    # Loading as well, so the check never lets through a zone that would fail later.
    return isinstance(name, str) and name in _zones() and _loads(name)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # tzdata (a dependency) ships IANA's list of zone names; the machine's zoneinfo folder holds more files
    # than zones.
    return frozenset(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()) - NOT_A_PLACE


def _loads(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


NOT_ONE_LINE = "Must be one line, without control characters."
NOT_TEXT = "Must not contain control characters (line breaks and tabs aside)."
BLANK = "Must not be blank."


class Name(fields.String):
    """One line a person types: a name, title, label or reason. Surrounding whitespace is trimmed (as
    str.strip() sees it, which is also what the web forms do before loading), and what is left may be neither
    blank nor hold a control character or line break anywhere: a line break in a name broke every calendar
    feed showing it, and a bare CR let it inject events into some parsers. Optional names are null or absent,
    never blank. The API and the web load the same schemas, so they share these rules and messages."""

    default_error_messages = {"blank": BLANK, "control": NOT_ONE_LINE}

    def __init__(self, *, max_length: int, **kwargs) -> None:
        # A Length validator (not a check of our own) so the OpenAPI document shows minLength and maxLength.
        extra = kwargs.pop("validate", None)
        extra = [] if extra is None else [extra] if callable(extra) else list(extra)
        super().__init__(validate=[validate.Length(min=1, max=max_length), *extra], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise self.make_error("blank")
        if first_control(text) is not None:
            raise self.make_error("control")
        return text


class Text(fields.String):
    """Free text of several lines (notes, descriptions): its line breaks are stored as "\\n" (a textarea sends
    "\\r\\n"), tabs are kept, and any other control character is refused. Lengths stay the schema's."""

    default_error_messages = {"control": NOT_TEXT}

    def _deserialize(self, value, attr, data, **kwargs):
        text = LINE_BREAK.sub("\n", super()._deserialize(value, attr, data, **kwargs))
        if first_control(text, free_text=True) is not None:
            raise self.make_error("control")
        return text


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
