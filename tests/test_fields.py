"""The shared fields: one time zone check for every place a zone is accepted."""
import importlib
import pkgutil
from zoneinfo import available_timezones

import pytest
from marshmallow import Schema

import oncall
from oncall.fields import TimeZone, is_time_zone

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
