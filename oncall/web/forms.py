"""Web forms go through the API's own schemas: a form becomes the API's request shape and is loaded by the
same marshmallow schema, so the web and the API refuse the same input with the same messages."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from marshmallow import Schema, ValidationError

from oncall.errors import Invalid
from oncall.schedules.schemas import BOUNDS_MESSAGE
from oncall.web import timefmt

# Longer digit strings are not ids (ids are 32-bit) and would only cost int() time; the schema says why.
_MAX_DIGITS = 18


class FormError(Invalid):
    """Input a form sent that cannot be used; `fields` says which."""


def integer(value: str | None) -> int | str | None:
    """A form's number as the JSON number the API expects, or the text itself for the schema to refuse."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isdigit() and len(text) <= _MAX_DIGITS else value


def local_instant(name: str, value: str | None, tz: str) -> str | None:
    """A datetime-local field, read in the reader's zone, as the RFC 3339 text the API takes (None if blank).
    Wall times whose instant Python cannot even represent (year 1 or 9999 shifted by the zone) get the
    API's range message."""
    if value is None or not value.strip():
        return None
    try:
        return timefmt.parse_local(value, tz).isoformat()
    except OverflowError as exc:
        raise FormError(f"{name}: {BOUNDS_MESSAGE}", fields={name: [BOUNDS_MESSAGE]}) from exc
    except ValueError as exc:
        raise FormError(f"{name} is not a date and time", fields={name: ["Expected a date and time."]}) from exc


def load(schema: Schema, data: Mapping, *, names: Mapping[str, str] | None = None) -> dict:
    """schema.load(data), its ValidationError turned into a FormError naming the form's fields (`names` maps
    an API field to the form field that fed it). Keys whose value is None are left out, as a blank field is
    an absent one."""
    try:
        return schema.load({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        fields = field_messages(exc.messages, names or {})
        first_field, first = next(iter(fields.items()))
        label = "" if first_field == "_" else f"{first_field}: "
        raise FormError(f"{label}{first[0]}", fields=fields) from exc


def field_messages(messages, names: Mapping[str, str]) -> dict[str, list[str]]:
    """marshmallow's nested messages ({"watch_items": {0: {"text": [...]}}}) flattened to form fields. A
    message at API path "watch_items.text" goes to names["watch_items.text"], else to the form field of
    its top-level API field; "_schema" (the whole form) is "_"."""
    out: dict[str, list[str]] = {}

    def add(path: str, message) -> None:
        top = path.split(".")[0]
        field = names.get(path) or names.get(top) or ("_" if top in ("", "_schema") else top)
        out.setdefault(field, []).append(str(message))

    def walk(value, path: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                key = str(key)
                walk(inner, path if key.isdigit() else f"{path}.{key}".lstrip("."))
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, path) if isinstance(inner, Mapping | list | tuple) else add(path, inner)
        else:
            add(path, value)

    walk(messages, "")
    return out


def isoformat(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
