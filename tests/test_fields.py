"""The shared fields: one time zone check for every place a zone is accepted, one name check (and one free
text check) for every place a person types text."""
import importlib
import pkgutil
from zoneinfo import available_timezones

import marshmallow
import pytest
from marshmallow import Schema, ValidationError, fields, validate

import oncall
from oncall.fields import BLANK, NOT_ONE_LINE, NOT_TEXT, Name, Text, TimeZone, is_time_zone

NOT_ZONES = ["localtime", "Factory", "posixrules", "posix/UTC", "right/UTC", "../zoneinfo/UTC", "/etc/localtime",
             "", " UTC", "UTC ", "utc", "America/New_York\n", "America", "Etc", "zone.tab", "tzdata.zi", None, 5]


@pytest.mark.parametrize("name", NOT_ZONES)
def test_names_that_are_not_places_are_refused(name):
    assert not is_time_zone(name)


@pytest.mark.parametrize("name", ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Etc/GMT+5",
                                  "US/Eastern", "Australia/Lord_Howe", "America/Argentina/Buenos_Aires"])
def test_iana_zones_are_accepted(name):
    assert is_time_zone(name)


def test_every_accepted_zone_is_an_iana_name_this_machine_can_load():
    accepted = {name for name in available_timezones() | {"localtime", "Factory"} if is_time_zone(name)}
    assert len(accepted) > 400
    assert not accepted & {"localtime", "Factory"}


def _schemas() -> list[type[Schema]]:
    for module in pkgutil.walk_packages(oncall.__path__, "oncall."):
        importlib.import_module(module.name)
    found, todo = [], list(Schema.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("oncall."):
            found.append(cls)
    return found


def test_every_zone_field_of_every_schema_uses_the_one_check():
    zone_fields = []
    for schema in _schemas():
        for name, field in schema._declared_fields.items():
            if "zone" in name and not field.dump_only:
                assert isinstance(field, TimeZone), f"{schema.__module__}.{schema.__name__}.{name}"
                zone_fields.append(name)
    assert len(zone_fields) >= 5


# --- names and free text -----------------------------------------------------------------------

C0 = [chr(code) for code in range(0x20)]
C1_SAMPLE = ["\x80", "\x85", "\x8d", "\x9b", "\x9f"]  # NEL (a line break to some), CSI, APC...
# Every character no name may hold anywhere, by name; the HTTP tests of every name-taking endpoint use it too.
NOT_IN_A_NAME = {f"U+{ord(c):04X}": c for c in [*C0, "\x7f", *C1_SAMPLE, "\u2028", "\u2029"]} | {"CRLF": "\r\n"}
# Free text keeps line feeds and tabs, and takes a CR (alone or before LF) as a line break.
NOT_IN_FREE_TEXT = {k: c for k, c in NOT_IN_A_NAME.items() if c not in ("\t", "\n", "\r", "\r\n")}
BLANKS = ["", " ", "   ", "\t", "\n", "\r\n", " \u3000 ", "\u00a0"]


def bad_names(max_length: int) -> dict[str, str]:
    """Names every Name field refuses, by what is wrong with them: a control inside a name (where no trimming
    can take it away) and alone, blanks, and one character too many."""
    out = {f"{key} inside": f"Eve{c}BEGIN:VEVENT" for key, c in NOT_IN_A_NAME.items()}
    out |= {f"{key} alone": c for key, c in NOT_IN_A_NAME.items()}
    out |= {f"blank {b!r}": b for b in BLANKS}
    return out | {"too long": "n" * (max_length + 1)}


def bad_texts(max_length: int) -> dict[str, str]:
    return {f"{key} inside": f"line one{c}line two" for key, c in NOT_IN_FREE_TEXT.items()} | {
        "too long": "n" * (max_length + 1)}


class NameSchema(Schema):
    name = Name(required=True, max_length=10)
    label = Name(load_default=None, allow_none=True, max_length=10)
    notes = Text(load_default="", validate=validate.Length(max=30))


@pytest.mark.parametrize("value", list(bad_names(10).values()), ids=list(bad_names(10)))
def test_names_with_controls_blanks_or_too_long_are_refused(value):
    for field in ("name", "label"):
        with pytest.raises(ValidationError) as refused:
            NameSchema().load({"name": "ok", field: value})
        assert list(refused.value.messages) == [field]
        [message] = refused.value.messages[field]
        assert message in (BLANK, NOT_ONE_LINE, "Length must be between 1 and 10.")


@pytest.mark.parametrize(("value", "stored"), [
    ("Eve", "Eve"), ("  Eve  ", "Eve"), ("Eve\n", "Eve"), ("\r\nEve\t", "Eve"), ("\u2028Eve\x1f", "Eve"),
    ("Zoë Ñ", "Zoë Ñ"), ("a b  c", "a b  c"), (" " * 50 + "ten chars!", "ten chars!"), ("李雷", "李雷"),
])
def test_names_are_trimmed_and_never_stored_with_a_control(value, stored):
    # Trimming is str.strip(), which the web forms apply too: surrounding line breaks go, inner ones are refused.
    assert NameSchema().load({"name": value})["name"] == stored


def test_an_optional_name_is_null_or_absent_never_blank():
    assert NameSchema().load({"name": "x"})["label"] is None
    assert NameSchema().load({"name": "x", "label": None})["label"] is None
    with pytest.raises(ValidationError, match=BLANK):
        NameSchema().load({"name": "x", "label": " "})


@pytest.mark.parametrize("value", list(bad_texts(30).values()), ids=list(bad_texts(30)))
def test_free_text_with_controls_is_refused(value):
    with pytest.raises(ValidationError) as refused:
        NameSchema().load({"name": "ok", "notes": value})
    assert refused.value.messages["notes"][0] in (NOT_TEXT, "Longer than maximum length 30.")


@pytest.mark.parametrize(("value", "stored"), [
    ("one\r\ntwo", "one\ntwo"), ("one\rtwo", "one\ntwo"), ("one\n\ttwo", "one\n\ttwo"), ("", ""),
])
def test_free_text_keeps_its_lines_as_line_feeds(value, stored):
    assert NameSchema().load({"name": "ok", "notes": value})["notes"] == stored


def _loaded_text_fields(field, path):
    if isinstance(field, fields.List):
        yield from _loaded_text_fields(field.inner, f"{path}[]")
    elif type(field) is fields.String or isinstance(field, Name | Text):
        yield path, field


# Loaded plain strings that are not typed by a person for others to read, each with why it needs no Name.
NOT_NAMES = {
    "people.schemas.TeamSchema.slug": "checked against SLUG",
    "people.schemas.PhoneCodeSchema.code": "compared with a hash, never stored",
    "incidents.schemas.IncidentCreateSchema.dedup_key": "a machine's key, compared, never shown as a line",
    # Alertmanager's payload is a machine's: refusing a label value would drop the alert.
    "incidents.schemas.AlertSchema.generatorURL": "machine input",
    "incidents.schemas.AlertSchema.fingerprint": "machine input",
    "incidents.schemas.AlertmanagerSchema.receiver": "machine input",
    "incidents.schemas.AlertmanagerSchema.groupKey": "machine input",
    "incidents.schemas.AlertmanagerSchema.externalURL": "machine input",
}


def test_every_text_a_person_types_is_a_name_or_free_text():
    """A loaded string field is a Name or Text, a choice among fixed values, or listed in NOT_NAMES: a new
    schema cannot take a name without the one check."""
    checked = []
    for schema in _schemas():
        for name, declared in schema._declared_fields.items():
            for path, field in _loaded_text_fields(declared, name):
                where = f"{schema.__module__.removeprefix('oncall.')}.{schema.__name__}.{path}"
                if isinstance(field, Name | Text):
                    checked.append(where)
                    continue
                # Fields of response shapes: nothing about them says how to load them.
                if field.dump_only or not (field.required or field.validators
                                           or field.load_default is not marshmallow.missing):
                    continue
                choices = any(isinstance(v, validate.OneOf | validate.Equal) for v in field.validators)
                assert choices or where in NOT_NAMES, f"{where}: use oncall.fields.Name or Text"
    assert len([w for w in checked if "Schema.name" in w]) >= 6
