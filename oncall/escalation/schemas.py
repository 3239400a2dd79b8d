"""Request and response shapes of escalation policies."""
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from oncall.escalation.policy import CHANNELS, MAX_DELAY_MINUTES, MAX_REPEAT, MAX_STEPS, MAX_TARGETS, TARGET_TYPES, TEAM
from oncall.schedules.schemas import UTCDateTime

MAX_ID = 2**31 - 1


class TargetSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    # Required for rotations and users; for "team" it defaults to the policy's own team.
    id = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=MAX_ID))

    @validates_schema
    def _id_needed(self, data, **_):
        if data.get("type") not in (None, TEAM) and data.get("id") is None:
            raise ValidationError({"id": ["Missing data for required field."]})


class StepSchema(Schema):
    delay_minutes = fields.Integer(required=True, strict=True,
                                   validate=validate.Range(min=0, max=MAX_DELAY_MINUTES))
    targets = fields.List(fields.Nested(TargetSchema), required=True,
                          validate=validate.Length(min=1, max=MAX_TARGETS))
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True,
                           validate=validate.Length(min=1, max=len(CHANNELS)))


class PolicySchema(Schema):
    """PUT body: {"repeat": 2, "steps": [{"delay_minutes": 0, "targets": [...], "channels": [...]}, ...]}."""

    READ_ONLY = ("team_id", "severity", "source", "updated_at")

    @pre_load
    def _drop_read_only(self, data, **_):
        # What GET returns may be PUT back as it is: the read-only keys are ignored, any other unknown key is not.
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in self.READ_ONLY}
        return data

    team_id = fields.Integer(dump_only=True)
    severity = fields.String(dump_only=True)
    repeat = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=MAX_REPEAT),
                            metadata={"description": "Passes after the first while nobody acknowledges."})
    steps = fields.List(fields.Nested(StepSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_STEPS))
    source = fields.String(dump_only=True, metadata={
        "description": "'team' once set with PUT; 'default' while computed from the team's rotations."})
    updated_at = UTCDateTime(dump_only=True, allow_none=True)


class PolicyListSchema(Schema):
    team_id = fields.Integer()
    policies = fields.List(fields.Nested(PolicySchema))
