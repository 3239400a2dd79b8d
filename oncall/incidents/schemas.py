"""Request and response shapes of incidents, their timeline, integrations and the Alertmanager webhook."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from oncall.escalation.policy import SEVERITIES
from oncall.fields import Id, Name, Text
from oncall.incidents.cadence import UPDATE_STATUSES
from oncall.incidents.models import STATUSES
from oncall.incidents.service import INTEGRATION_TYPES
from oncall.schedules.schemas import UTCDateTime

class Severity(fields.String):
    """SEV1..SEV4, any case on input."""

    default_error_messages = {"invalid_severity": f"Must be one of: {', '.join(SEVERITIES)}."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if text not in SEVERITIES:
            raise self.make_error("invalid_severity")
        return text


def _url() -> fields.Url:
    # Internal dashboards often live on hosts without a public TLD (http://grafana:3000/...).
    return fields.Url(schemes={"http", "https"}, require_tld=False, load_default=None, allow_none=True,
                      validate=validate.Length(max=2000))


class LinksSchema(Schema):
    dashboard = _url()
    runbook = _url()
    chat = Name(load_default=None, allow_none=True, max_length=200,
                         metadata={"description": "Chat channel, e.g. #incidents-payments"})


class IncidentCreateSchema(Schema):
    team_id = Id(required=True)
    severity = Severity(required=True)
    title = Name(required=True, max_length=500)
    description = Text(load_default=None, allow_none=True, validate=validate.Length(max=20000))
    dedup_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=255),
                              metadata={"description": "A trigger with the key of an open incident of the team "
                                                       "joins it instead of paging again."})
    links = fields.Nested(LinksSchema, load_default=dict)


class IncidentQuerySchema(Schema):
    team_id = Id(strict=False, load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf([*STATUSES, "open"]))
    severity = Severity(load_default=None)
    since = UTCDateTime(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    before_id = Id(strict=False, load_default=None, metadata={"description": "Page backwards: incidents with a smaller id."})
    suppressed = fields.Boolean(load_default=None, metadata={
        "description": "true: only incidents a maintenance window suppressed; false: none of them"})


class ReassignSchema(Schema):
    user_id = Id(required=True, metadata={"description": "A member of the incident's team; paged at once."})


class IncidentUpdateSchema(Schema):
    severity = Severity(required=True, metadata={
        "description": "The incident follows this severity's policy from its first step, unacknowledged again."})


class NoteSchema(Schema):
    text = Text(required=True, validate=validate.Length(min=1, max=5000))


class RolesSchema(Schema):
    """PUT body: each role a member of the incident's team, or null to clear it; a role left out is unchanged."""

    commander = Id(allow_none=True, metadata={"description": "Incident commander"})
    tech_lead = Id(allow_none=True, metadata={"description": "Technical lead"})
    comms_lead = Id(allow_none=True, metadata={"description": "Communications lead"})


class RolesOutSchema(Schema):
    commander = fields.Integer(allow_none=True)
    tech_lead = fields.Integer(allow_none=True)
    comms_lead = fields.Integer(allow_none=True)


class StatusUpdateCreateSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(UPDATE_STATUSES), metadata={
        "description": "investigating, identified, monitoring or resolved (which resolves the incident too)"})
    message = Text(required=True, validate=validate.Length(min=1, max=5000))

    @post_load
    def _strip(self, data, **_):
        data["message"] = data["message"].strip()
        if not data["message"]:
            raise ValidationError({"message": ["Must not be blank."]})
        return data


class StatusUpdateSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    message = fields.String()
    user_id = fields.Integer(allow_none=True)
    via = fields.String(allow_none=True)
    created_at = UTCDateTime()


class UpdateDueSchema(Schema):
    due_at = UTCDateTime()
    late = fields.Boolean()
    interval_minutes = fields.Integer()


class TimelineEventSchema(Schema):
    id = fields.Integer()
    at = UTCDateTime()
    kind = fields.String()
    user_id = fields.Integer(allow_none=True)
    via = fields.String(allow_none=True)
    message = fields.Function(lambda e: (e.detail or {}).get("message"))
    detail = fields.Function(lambda e: {k: v for k, v in (e.detail or {}).items() if k != "message"})


class NotificationSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    channel = fields.String()
    step = fields.Integer()
    round = fields.Integer()
    state = fields.String(metadata={"description": "pending, sending, sent, failed or cancelled"})
    status = fields.String(allow_none=True, metadata={"description": "The provider's delivery status"})
    attempts = fields.Integer()
    provider_id = fields.String(allow_none=True)
    sent_at = UTCDateTime(allow_none=True)
    digest = fields.Boolean()
    fallback_of_id = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class EscalationStateSchema(Schema):
    next_step = fields.Integer(metadata={"description": "Index of the next step to page"})
    round = fields.Integer(metadata={"description": "Pass over the steps, 0 = first"})
    next_step_at = UTCDateTime(allow_none=True)
    exhausted_at = UTCDateTime(allow_none=True)
    policy = fields.Dict()


class IncidentSchema(Schema):
    id = fields.Integer()
    code = fields.Integer(metadata={"description": "The number to use in SMS replies: <code>A, <code>R, <code>E"})
    team_id = fields.Integer()
    severity = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String()
    dedup_key = fields.String(allow_none=True)
    links = fields.Dict()
    source = fields.String()
    url = fields.String()
    trigger_count = fields.Integer()
    created_at = UTCDateTime()
    created_by_id = fields.Integer(allow_none=True)
    last_triggered_at = UTCDateTime()
    acknowledged_at = UTCDateTime(allow_none=True)
    acknowledged_by_id = fields.Integer(allow_none=True)
    acknowledged_via = fields.String(allow_none=True)
    resolved_at = UTCDateTime(allow_none=True)
    resolved_by_id = fields.Integer(allow_none=True)
    resolved_via = fields.String(allow_none=True)
    alert = fields.Dict(allow_none=True)
    escalation = fields.Nested(EscalationStateSchema)
    suppressed = fields.Boolean(metadata={"description": "Opened by a machine during a maintenance window."})
    held = fields.Boolean(metadata={"description": "Paging nobody until its maintenance window ends."})
    maintenance_window_id = fields.Integer(allow_none=True)


class IncidentDetailSchema(IncidentSchema):
    roles = fields.Nested(RolesOutSchema)
    updates = fields.List(fields.Nested(StatusUpdateSchema), metadata={"description": "Newest first"})
    update_due = fields.Nested(UpdateDueSchema, allow_none=True, metadata={
        "description": "When the next status update is due (SEV1 every 15 minutes, SEV2 every 30, while open)"})
    postmortem_state = fields.String(allow_none=True, metadata={"description": "draft or published; null if none"})
    timeline = fields.List(fields.Nested(TimelineEventSchema))
    notifications = fields.List(fields.Nested(NotificationSchema))


class IncidentListSchema(Schema):
    incidents = fields.List(fields.Nested(IncidentSchema))


class IntegrationCreateSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(INTEGRATION_TYPES))
    name = Name(load_default=None, allow_none=True, max_length=200)


class IntegrationSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    type = fields.String()
    name = fields.String(allow_none=True)
    created_at = UTCDateTime()
    created_by_id = fields.Integer(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True)
    url = fields.String(metadata={"description": "Where the machine posts, with the token as its bearer"})


class IntegrationCreatedSchema(IntegrationSchema):
    token = fields.String(metadata={"description": "Shown once: only its hash is stored"})


class IntegrationListSchema(Schema):
    integrations = fields.List(fields.Nested(IntegrationSchema))


# --- Alertmanager webhook (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) --------

class Rfc3339(fields.Field):
    """Alertmanager's times: RFC 3339 with up to nanosecond fractions, "0001-01-01T00:00:00Z" for unset."""

    default_error_messages = {"invalid": "Not an RFC 3339 date-time with an offset."}

    def _deserialize(self, value, attr, data, **kwargs):
        from oncall.incidents.alertmanager import parse_time

        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_time(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc


_LABELS = {"keys": fields.String(validate=validate.Length(max=1000)),
           "values": fields.String(validate=validate.Length(max=10000))}


class AlertSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # Alertmanager may add fields; only these are used

    status = fields.String(required=True, validate=validate.OneOf(["firing", "resolved"]))
    labels = fields.Dict(required=True, **_LABELS)
    annotations = fields.Dict(load_default=dict, **_LABELS)
    startsAt = Rfc3339(required=True)
    endsAt = Rfc3339(load_default=None, allow_none=True)
    generatorURL = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    fingerprint = fields.String(required=True, validate=validate.Length(min=1, max=255))


class AlertmanagerSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.String(required=True, validate=validate.Equal("4", error="Only version 4 payloads are supported."))
    status = fields.String(required=True, validate=validate.OneOf(["firing", "resolved"]))
    receiver = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    groupKey = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10000))
    truncatedAlerts = fields.Integer(load_default=0, validate=validate.Range(min=0))
    groupLabels = fields.Dict(load_default=dict, **_LABELS)
    commonLabels = fields.Dict(load_default=dict, **_LABELS)
    commonAnnotations = fields.Dict(load_default=dict, **_LABELS)
    externalURL = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    alerts = fields.List(fields.Nested(AlertSchema), required=True, validate=validate.Length(min=1, max=1000))

    @pre_load
    def _object(self, data, **_):
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["Expected a JSON object (the Alertmanager webhook payload)."]})
        return data


class AlertmanagerResultSchema(Schema):
    results = fields.List(fields.Dict())

