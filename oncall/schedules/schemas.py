"""Request and response shapes for rotations, overrides, time off and shifts."""
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from oncall.fields import Id, Name, Text, TimeZone, WallClock
from oncall.schedules.timeline import MAX_WINDOW

# Upper bounds keep a single shift under a year; longer "shifts" are a data-entry mistake.
# A rotation's participants: the API and the web's rotation form refuse more (a schedule costs linear time in
# them, but a page listing them and a team that large are data-entry mistakes).
MAX_PARTICIPANTS = 100
MAX_SHIFT_COUNT = {"hours": 24 * 366, "days": 366, "weeks": 52}


# Schedules reach a year or so either side of any instant they are asked about, and Python's datetime ends
# at years 1 and 9999: input outside these bounds is refused at the edge instead of overflowing later.
EARLIEST = datetime(1000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
BOUNDS_MESSAGE = "Must be between 1000-01-01 and 9000-01-01."


class UTCDateTime(fields.AwareDateTime):
    """Aware input only (naive is rejected) and within [EARLIEST, LATEST); output always in UTC with Z."""

    default_error_messages = {"out_of_range": BOUNDS_MESSAGE}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            result = super()._deserialize(value, attr, data, **kwargs)
        except OverflowError as exc:  # an offset pushing year 1 or 9999 out of range
            raise self.make_error("out_of_range") from exc
        if not EARLIEST <= result < LATEST:
            raise self.make_error("out_of_range")
        return result

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        from oncall.clock import isoformat_z

        return isoformat_z(value)


class Day(fields.Date):
    """A local calendar date within the same bounds as instants."""

    default_error_messages = {"out_of_range": BOUNDS_MESSAGE}

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.date() <= result < LATEST.date():
            raise self.make_error("out_of_range")
        return result


class ShiftLengthSchema(Schema):
    unit = fields.String(required=True, validate=validate.OneOf(list(MAX_SHIFT_COUNT)))
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))

    @validates_schema
    def _bounded(self, data, **_):
        limit = MAX_SHIFT_COUNT.get(data.get("unit"))
        if limit is not None and data.get("count", 0) > limit:
            raise ValidationError({"count": [f"At most {limit} {data['unit']}."]})


class VersionSchema(Schema):
    # null for the first version: it is in force from the rotation's first handoff
    effective_at = UTCDateTime(dump_only=True, allow_none=True)
    time_zone = fields.String(dump_only=True)
    handoff_time = WallClock(dump_only=True)
    shift_length = fields.Nested(ShiftLengthSchema, dump_only=True)
    start_date = fields.Date(dump_only=True)
    participant_ids = fields.List(fields.Integer(), dump_only=True)


class RotationSchema(Schema):
    id = fields.Integer(dump_only=True)
    team_id = Id(required=True)
    name = Name(required=True, max_length=200)
    time_zone = TimeZone(required=True)
    handoff_time = WallClock(required=True)
    shift_length = fields.Nested(ShiftLengthSchema, required=True)
    start_date = Day(required=True)
    participant_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=MAX_PARTICIPANTS))
    versions = fields.List(fields.Nested(VersionSchema), dump_only=True)
    updated_at = UTCDateTime(dump_only=True)
    archived_at = UTCDateTime(dump_only=True, allow_none=True,
                              metadata={"description": "Set once archived: the rotation pages nobody"})


class RotationUpdateSchema(Schema):
    """Name changes apply at once; schedule changes start a new version at `effective_at` (default now)."""

    name = Name(max_length=200)
    time_zone = TimeZone()
    handoff_time = WallClock()
    shift_length = fields.Nested(ShiftLengthSchema)
    start_date = Day()
    participant_ids = fields.List(Id(), validate=validate.Length(min=1, max=MAX_PARTICIPANTS))
    effective_at = UTCDateTime()


class WindowSchema(Schema):
    """A bounded window of time (query string)."""

    start = UTCDateTime(required=True)
    end = UTCDateTime(required=True)

    @validates_schema
    def _bounded(self, data, **_):
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return
        if end <= start:
            raise ValidationError({"end": ["Must be after start."]})
        if end - start > MAX_WINDOW:
            raise ValidationError({"end": [f"Windows are limited to {MAX_WINDOW.days} days."]})


class AtSchema(Schema):
    at = UTCDateTime(load_default=None)


class ShiftSchema(Schema):
    user_id = fields.Integer(allow_none=True)
    start = UTCDateTime(attribute="start_at")
    end = UTCDateTime(attribute="end_at")
    source = fields.String()
    covering_for = fields.Integer(allow_none=True)
    override_id = fields.Integer(allow_none=True)


class ShiftListSchema(Schema):
    rotation_id = fields.Integer()
    start = UTCDateTime()
    end = UTCDateTime()
    shifts = fields.List(fields.Nested(ShiftSchema))


class OnCallSchema(ShiftSchema):
    rotation_id = fields.Integer()
    rotation_name = fields.String()
    user = fields.Dict(allow_none=True)


class GapSchema(Schema):
    rotation_id = fields.Integer()
    start = UTCDateTime()
    end = UTCDateTime()


class CoverageSchema(Schema):
    team_id = fields.Integer()
    start = UTCDateTime()
    end = UTCDateTime()
    gaps = fields.List(fields.Nested(GapSchema))


class TeamOnCallSchema(Schema):
    team_id = fields.Integer()
    at = UTCDateTime()
    oncall = fields.List(fields.Nested(OnCallSchema))


class _IntervalSchema(Schema):
    id = fields.Integer(dump_only=True)
    start = UTCDateTime(required=True, attribute="start_at", data_key="start")
    end = UTCDateTime(required=True, attribute="end_at", data_key="end")
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    created_at = UTCDateTime(dump_only=True)

    @validates_schema
    def _ordered(self, data, **_):
        start, end = data.get("start_at"), data.get("end_at")
        if start is not None and end is not None:
            if end <= start:
                raise ValidationError({"end": ["Must be after start."]})
            if end - start > MAX_WINDOW:
                raise ValidationError({"end": [f"At most {MAX_WINDOW.days} days long."]})


class OverrideSchema(_IntervalSchema):
    rotation_id = fields.Integer(dump_only=True)
    user_id = Id(required=True)


class TimeOffSchema(_IntervalSchema):
    user_id = fields.Integer(dump_only=True)


class SwapRequestCreateSchema(Schema):
    start = UTCDateTime(required=True, attribute="start_at", data_key="start")
    end = UTCDateTime(required=True, attribute="end_at", data_key="end")
    to_user_id = Id(load_default=None, allow_none=True,
                    metadata={"description": "The teammate asked; omit (or null) to ask the whole team."})
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def _ordered(self, data, **_):
        start, end = data.get("start_at"), data.get("end_at")
        if start is not None and end is not None:
            if end <= start:
                raise ValidationError({"end": ["Must be after start."]})
            if end - start > MAX_WINDOW:
                raise ValidationError({"end": [f"At most {MAX_WINDOW.days} days long."]})


class SwapRequestSchema(Schema):
    id = fields.Integer()
    rotation_id = fields.Integer()
    team_id = fields.Integer()
    requester_id = fields.Integer()
    to_user_id = fields.Integer(allow_none=True)
    start = UTCDateTime(attribute="start_at")
    end = UTCDateTime(attribute="end_at")
    reason = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "open, accepted, declined, or expired (open past its start)"})
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    override_id = fields.Integer(allow_none=True)


class SwapRequestListSchema(Schema):
    swap_requests = fields.List(fields.Nested(SwapRequestSchema))


class SwapRequestQuerySchema(Schema):
    state = fields.String(load_default=None, validate=validate.OneOf(["open", "accepted", "declined", "expired", "all"]))
