"""Request and response shapes of calendar feeds, and the query string of the feed itself."""
from datetime import date, datetime, time, timezone

from marshmallow import EXCLUDE, Schema, fields, validate

from oncall.feeds.models import SCOPES
from oncall.fields import MAX_ID, Id
from oncall.schedules.schemas import UTCDateTime

# More than a day ahead is not a reminder any more.
MAX_REMINDER_MINUTES = 24 * 60


class FeedCreateSchema(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    scope_id = Id(required=True, data_key="id", metadata={"description": "The rotation's, team's or user's id"})


class FeedQuerySchema(Schema):
    user_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "Whose feeds (administrators only; default: yours)"})


class FeedSchema(Schema):
    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True, metadata={"description": "The owner"})
    scope = fields.String(dump_only=True)
    scope_id = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    last_fetched_at = UTCDateTime(dump_only=True, allow_none=True,
                                  metadata={"description": "To the minute; null if never fetched"})


class FeedCreatedSchema(FeedSchema):
    """The only time the secret URLs are shown: only a hash of the secret is kept."""

    url = fields.String(dump_only=True)
    webcal_url = fields.String(dump_only=True)


class DateOrDateTime(fields.Field):
    """A date (read as 00:00 UTC) or an RFC 3339 date-time with an offset."""

    default_error_messages = {"invalid": "Expected a date (2026-03-01) or an RFC 3339 date-time with an offset."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), time(), timezone.utc)
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise self.make_error("invalid") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise self.make_error("invalid")
        return parsed


class CalendarQuerySchema(Schema):
    """GET /calendars/{secret}.ics: clients add parameters of their own, so unknown ones are ignored."""

    class Meta:
        unknown = EXCLUDE

    start = DateOrDateTime(load_default=None)
    end = DateOrDateTime(load_default=None)
    reminder = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_REMINDER_MINUTES))


def load_calendar_query(args) -> dict:
    """The first value of each parameter (a repeated one is not an error), validated."""
    return CalendarQuerySchema().load({key: args.get(key) for key in ("start", "end", "reminder") if key in args})

