"""Request and response shapes for handoffs and watch items."""
from marshmallow import Schema, fields, validate

from oncall.fields import Id, Name, Text
from oncall.schedules.schemas import UTCDateTime

# One submission's limits, for the API and the web form alike.
MAX_NEW_WATCH_ITEMS = 20
MAX_CLOSED_WATCH_ITEMS = 200


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class WatchItemSchema(Schema):
    id = fields.Integer(dump_only=True)
    team_id = fields.Integer(dump_only=True)
    text = Name(required=True, max_length=500)
    due_on = fields.Date(load_default=None, allow_none=True)
    added_by = fields.Nested(PersonSchema, dump_only=True, allow_none=True)
    handoff_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = UTCDateTime(dump_only=True)
    closed = fields.Boolean(dump_only=True)
    closed_by = fields.Nested(PersonSchema, dump_only=True, allow_none=True)
    closed_at = UTCDateTime(dump_only=True, allow_none=True)


class WatchItemUpdateSchema(Schema):
    """Change the text or due date, or close (true) / reopen (false) the item."""

    text = Name(max_length=500)
    due_on = fields.Date(allow_none=True)
    closed = fields.Boolean()


class WatchItemQuerySchema(Schema):
    state = fields.String(load_default="open", validate=validate.OneOf(["open", "closed", "all"]))


class NewWatchItemSchema(Schema):
    text = Name(required=True, max_length=500)
    due_on = fields.Date(load_default=None, allow_none=True)


class HandoffSubmitSchema(Schema):
    """Submit the draft (or, with "submit": false, only save its notes). `shift_change_at` is optional: when
    given it must be the change the draft is for, so a note is never filed under the wrong change."""

    shift_change_at = UTCDateTime(load_default=None, allow_none=True)
    notes = Text(load_default="", validate=validate.Length(max=20000))
    watch_items = fields.List(fields.Nested(NewWatchItemSchema), load_default=list,
                              validate=validate.Length(max=MAX_NEW_WATCH_ITEMS),
                              metadata={"description": "New watch items; they become the team's."})
    close_watch_items = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_CLOSED_WATCH_ITEMS),
                                    metadata={"description": "Ids of the team's watch items to close now."})
    submit = fields.Boolean(load_default=True)


class ActiveIssueSchema(Schema):
    incident_id = fields.Integer()
    code = fields.String(allow_none=True)
    severity = fields.String()
    title = fields.String()
    status = fields.String()
    created_at = fields.String()
    acknowledged_by = fields.String(allow_none=True)
    url = fields.String()


class ResolvedSchema(Schema):
    incident_id = fields.Integer()
    code = fields.String(allow_none=True)
    severity = fields.String()
    title = fields.String()
    resolved_at = fields.String()
    url = fields.String()


class SectionWatchSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    due_on = fields.String(allow_none=True)
    added_by = fields.String(allow_none=True)


class SectionClosedSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    closed_by = fields.String(allow_none=True)
    closed_at = fields.String()


class SectionFollowUpSchema(Schema):
    kind = fields.String(metadata={"description": "postmortem (a SEV1/SEV2 resolved over five business days ago "
                                                  "without a published postmortem) or action_item (open, past due)"})
    text = fields.String()
    url = fields.String(metadata={"description": "The postmortem's page"})
    incident_id = fields.Integer()
    severity = fields.String()
    action_item_id = fields.Integer()
    due_on = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)


class SectionsSchema(Schema):
    active_issues = fields.List(fields.Nested(ActiveIssueSchema))
    recently_resolved = fields.List(fields.Nested(ResolvedSchema))
    watch_items = fields.List(fields.Nested(SectionWatchSchema))
    closed_watch_items = fields.List(fields.Nested(SectionClosedSchema),
                                     metadata={"description": "Closed since the previous handoff; listed once."})
    follow_ups = fields.List(fields.Nested(SectionFollowUpSchema), metadata={
        "description": "Watch items from postmortems: late postmortems and overdue action items, until done."})
    hints = fields.List(fields.String(), metadata={"description": "Automatic notes: PTO, overrides, held pages."})


class HandoffSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null for a draft nobody has saved"})
    rotation_id = fields.Integer()
    team_id = fields.Integer()
    shift_change_at = UTCDateTime()
    state = fields.String(metadata={"description": "draft, submitted or acknowledged"})
    outgoing_user = fields.Nested(PersonSchema, allow_none=True)
    incoming_user = fields.Nested(PersonSchema, allow_none=True)
    since = UTCDateTime(metadata={"description": "Start of the recently-resolved window"}, allow_none=True)
    sections = fields.Nested(SectionsSchema)
    notes = fields.String()
    markdown = fields.String()
    submitted_by = fields.Nested(PersonSchema, allow_none=True)
    submitted_at = UTCDateTime(allow_none=True)
    acknowledged_by = fields.Nested(PersonSchema, allow_none=True)
    acknowledged_at = UTCDateTime(allow_none=True)
    url = fields.String(metadata={"description": "The handoff's web page"}, allow_none=True)


class HandoffListSchema(Schema):
    handoffs = fields.List(fields.Nested(HandoffSchema))
