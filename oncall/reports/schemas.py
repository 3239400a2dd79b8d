"""Query and answer shapes of /api/v1/teams/{id}/reports/*."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from oncall.schedules.schemas import UTCDateTime
from oncall.schedules.timeline import MAX_WINDOW


class PeriodQuerySchema(Schema):
    """start and end (default: the four weeks up to now); at most 400 days."""

    start = UTCDateTime(load_default=None)
    end = UTCDateTime(load_default=None)

    @validates_schema
    def _bounded(self, data, **_):
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            if end <= start:
                raise ValidationError({"end": ["Must be after start."]})
            if end - start > MAX_WINDOW:
                raise ValidationError({"end": [f"Periods are limited to {MAX_WINDOW.days} days."]})


class LoadQuerySchema(PeriodQuerySchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class PersonLoadSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    oncall_hours = fields.Float()
    night_hours = fields.Float()
    weekend_hours = fields.Float()
    pages = fields.Integer()
    night_pages = fields.Integer()


class LoadReportSchema(Schema):
    team_id = fields.Integer()
    start = UTCDateTime()
    end = UTCDateTime()
    people = fields.List(fields.Nested(PersonLoadSchema))


class SeverityResponseSchema(Schema):
    severity = fields.String()
    incidents = fields.Integer()
    acknowledged_within_target = fields.Integer()
    median_seconds_to_acknowledge = fields.Float(allow_none=True)
    p90_seconds_to_acknowledge = fields.Float(allow_none=True)
    median_seconds_to_resolve = fields.Float(allow_none=True)
    target_seconds = fields.Integer()


class ResponseReportSchema(Schema):
    team_id = fields.Integer()
    start = UTCDateTime()
    end = UTCDateTime()
    severities = fields.List(fields.Nested(SeverityResponseSchema))
