"""Request and response shapes for users and teams."""
import re

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from oncall.fields import Id, Name, Phone, TimeZone, WallClock
from oncall.people.models import WEEKDAYS
from oncall.schedules.schemas import UTCDateTime

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = Name(required=True, max_length=200)
    email = fields.Email(required=True, validate=validate.Length(max=320))
    phone = Phone(allow_none=True, load_default=None)
    phone_verified = fields.Boolean(dump_only=True, metadata={
        "description": "Whether pages may go to `phone`: set by an administrator, or confirmed by a code sent to it"})
    time_zone = TimeZone(load_default="UTC")
    is_admin = fields.Boolean(dump_only=True)
    sms_opted_out = fields.Boolean(dump_only=True)
    team_ids = fields.Method("_team_ids", dump_only=True)

    def _team_ids(self, user) -> list[int]:
        return sorted(m.team_id for m in user.memberships)


class UserUpdateSchema(Schema):
    name = Name(max_length=200)
    email = fields.Email(validate=validate.Length(max=320))
    phone = Phone(allow_none=True)
    time_zone = TimeZone()


class BusinessHoursSchema(Schema):
    """Any part may be left out: it keeps the team's current value (Mon-Fri 09:00-17:00 for a new team)."""

    days = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)))
    start = WallClock()
    end = WallClock()

    @validates_schema
    def _check(self, data, **_):
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end <= start:
            raise ValidationError({"end": ["Business hours must end after they start."]})
        if len(set(data.get("days") or [])) != len(data.get("days") or []):
            raise ValidationError({"days": ["Each weekday may appear once."]})


class TeamSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = Name(required=True, max_length=200)
    slug = fields.String(required=True)
    time_zone = TimeZone(required=True)
    business_hours = fields.Nested(BusinessHoursSchema)
    member_ids = fields.List(fields.Integer(), dump_only=True)
    admin_ids = fields.Method("_admin_ids", dump_only=True)

    def _admin_ids(self, team) -> list[int]:
        return [m.user_id for m in team.members if m.role == "admin"]

    @validates("slug")
    def _slug(self, value, **_):
        if not SLUG.match(value):
            raise ValidationError("Lowercase letters, digits and dashes, starting with a letter or digit.")


class MembersSchema(Schema):
    user_ids = fields.List(Id(), required=True, validate=validate.Length(max=1000))
    admin_ids = fields.List(Id(), load_default=None, validate=validate.Length(max=1000))

    @validates_schema
    def _admins_are_members(self, data, **_):
        admins = data.get("admin_ids")
        if admins is not None and not set(admins) <= set(data["user_ids"]):
            raise ValidationError({"admin_ids": ["Every admin must also be in user_ids."]})


class TeamMembersSchema(Schema):
    user_ids = fields.List(fields.Integer())
    admin_ids = fields.List(fields.Integer())


class TokenQuerySchema(Schema):
    user_id = Id(strict=False, load_default=None,
                 metadata={"description": "Whose tokens (administrators only; default: yours)"})


class NewApiTokenSchema(Schema):
    name = Name(load_default=None, allow_none=True, max_length=200,
                         metadata={"description": "What the token is for, e.g. 'alertmanager on prod-1'"})
    expires_at = UTCDateTime(load_default=None, allow_none=True,
                             metadata={"description": "Default: never, or when the token creating it expires"})
    user_id = Id(load_default=None, metadata={"description": "For someone else (administrators only)"})


class ApiTokenSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String(allow_none=True)
    created_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True, metadata={"description": "To the minute; null if never used"})
    expired = fields.Boolean()


class NewApiTokenResultSchema(ApiTokenSchema):
    token = fields.String(metadata={"description": "The token itself: shown only in this answer"})


class PhoneCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20),
                         metadata={"description": "The code texted to the phone number"})


class PhoneVerificationSchema(Schema):
    phone = fields.String(allow_none=True)
    phone_verified = fields.Boolean()
    message = fields.String()
