"""Request and response shapes of postmortems and their action items."""
from marshmallow import Schema, ValidationError, fields, post_load, validate

from oncall.fields import Id, Name, Text
from oncall.postmortems.models import STATES
from oncall.schedules.schemas import UTCDateTime

MAX_TEXT = 20000
MAX_ITEMS = 100


def _section(description: str) -> Text:
    return Text(allow_none=True, validate=validate.Length(max=MAX_TEXT), metadata={"description": description})


class ActionItemSchema(Schema):
    id = Id(load_default=None, allow_none=True, metadata={"description": "An existing item's id (kept, with who "
                                                                          "closed it); omit for a new item"})
    text = Name(required=True, max_length=500)
    owner_id = Id(load_default=None, allow_none=True, metadata={"description": "A member of the incident's team"})
    due_date = fields.Date(load_default=None, allow_none=True)
    done = fields.Boolean(load_default=False)


class PostmortemUpdateSchema(Schema):
    """PUT body: the sections given replace theirs, the others are unchanged; `action_items`, when given, is the
    whole list (items sent with their id are kept, the others added, the missing deleted)."""

    title = Name(max_length=500)
    state = fields.String(validate=validate.OneOf(STATES), metadata={
        "description": "draft, or published once written (needs summary and root_cause)"})
    summary = _section("What happened, briefly")
    impact = _section("Who and what was affected (the duration is added from the incident)")
    timeline = _section("Prefilled from the incident's timeline, one '- HH:MM UTC - what happened' line each")
    root_cause = _section("The technical cause")
    went_well = _section("What went well")
    went_poorly = _section("What went poorly")
    lessons = _section("Lessons learned")
    action_items = fields.List(fields.Nested(ActionItemSchema), validate=validate.Length(max=MAX_ITEMS))

    @post_load
    def _clean(self, data, **_):
        if "title" in data:
            data["title"] = data["title"].strip()
            if not data["title"]:
                raise ValidationError({"title": ["Must not be blank."]})
        for key, value in data.items():
            if value is None and key != "action_items":
                data[key] = ""
        if data.get("action_items") is None:
            data.pop("action_items", None)
        return data


class ActionItemOutSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    owner_id = fields.Integer(allow_none=True)
    owner = fields.String(allow_none=True, metadata={"description": "The owner's name"})
    due_date = fields.Date(allow_none=True)
    done = fields.Boolean()
    done_at = UTCDateTime(allow_none=True)
    done_by_id = fields.Integer(allow_none=True)
    done_by = fields.String(allow_none=True)


class PostmortemSchema(Schema):
    incident_id = fields.Integer()
    title = fields.String()
    state = fields.String()
    date = fields.Date(metadata={"description": "The incident's date (UTC)"})
    duration = fields.String(metadata={"description": "From opening to resolve, e.g. '1h 25m'"})
    summary = fields.String()
    impact = fields.String()
    timeline = fields.String()
    root_cause = fields.String()
    went_well = fields.String()
    went_poorly = fields.String()
    lessons = fields.String()
    action_items = fields.List(fields.Nested(ActionItemOutSchema))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    updated_by_id = fields.Integer(allow_none=True)
    published_at = UTCDateTime(allow_none=True)
    url = fields.String(metadata={"description": "The postmortem's page"})
    markdown_url = fields.String()
