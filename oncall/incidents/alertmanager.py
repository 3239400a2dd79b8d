"""Prometheus Alertmanager's webhook (payload version 4) mapped to incident triggers and resolutions (pure).

PRODUCT.md fixes the mapping: label `severity` SEV1..SEV4 in any case, or critical -> SEV1, error/major -> SEV2,
warning -> SEV3, info -> SEV4, anything else SEV3; annotations summary, description, dashboard,
runbook/runbook_url and slack_channel fill the incident; the fingerprint is the dedup key; an alert whose
status is resolved resolves its incident."""
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SEVERITY_LABELS = {"critical": "SEV1", "error": "SEV2", "major": "SEV2", "warning": "SEV3", "info": "SEV4"}
DEFAULT_SEVERITY = "SEV3"
TITLE_LIMIT, DESCRIPTION_LIMIT, LINK_LIMIT, CHAT_LIMIT = 500, 20000, 2000, 200

# Go's time.Time marshals as RFC 3339 with up to nine fractional digits, which datetime cannot hold.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")


def parse_time(text: str) -> datetime:
    """An aware UTC datetime from RFC 3339 text; ValueError otherwise. Fractions beyond microseconds are cut."""
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    if zulu:
        tz = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset >= timedelta(hours=24):
            raise ValueError(f"offset out of range: {text!r}")
        tz = timezone(offset if sign == "+" else -offset)
    value = datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59), micro, tzinfo=tz)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC equivalent inside datetime's range
        return datetime.min.replace(tzinfo=UTC)


def severity_of(labels: Mapping[str, str]) -> str:
    value = str(labels.get("severity") or "").strip()
    if value.upper() in SEVERITIES:
        return value.upper()
    return SEVERITY_LABELS.get(value.lower(), DEFAULT_SEVERITY)


@dataclass(frozen=True)
class AlertEvent:
    """One alert of a notification, as a trigger (firing) or a resolution of the incident with its key."""

    fingerprint: str
    firing: bool
    severity: str
    title: str
    description: str | None
    links: dict
    starts_at: datetime
    alert: dict  # what is kept on the incident for people (labels, annotations, source link)


def _http_link(value) -> str | None:
    # Annotations are free text; only web links become links (a "javascript:" URL must never be one).
    if isinstance(value, str) and re.match(r"^https?://\S+$", value.strip()) and len(value.strip()) <= LINK_LIMIT:
        return value.strip()
    return None


def _first(key: str, *sources: Mapping) -> str | None:
    for source in sources:
        value = source.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def map_payload(payload: Mapping) -> list[AlertEvent]:
    """The events of a validated payload (schemas.AlertmanagerSchema), in the order of its alerts."""
    common_labels = payload.get("commonLabels") or {}
    common_annotations = payload.get("commonAnnotations") or {}
    result = []
    for alert in payload["alerts"]:
        labels, annotations = alert["labels"], alert.get("annotations") or {}
        title = (_first("summary", annotations, common_annotations)
                 or _first("alertname", labels, common_labels)
                 or f"Alert {alert['fingerprint']}")
        description = _first("description", annotations, common_annotations)
        links = {
            "dashboard": _http_link(_first("dashboard", annotations, common_annotations)),
            "runbook": _http_link(_first("runbook", annotations, common_annotations)
                                  or _first("runbook_url", annotations, common_annotations)),
            "chat": (_first("slack_channel", annotations, common_annotations) or "")[:CHAT_LIMIT] or None,
        }
        ends_at = alert.get("endsAt")
        result.append(AlertEvent(
            fingerprint=alert["fingerprint"],
            firing=alert["status"] == "firing",
            severity=severity_of({**common_labels, **labels}),
            title=title[:TITLE_LIMIT],
            description=description[:DESCRIPTION_LIMIT] if description else None,
            links=links,
            starts_at=alert["startsAt"],
            alert={
                "fingerprint": alert["fingerprint"],
                "labels": dict(labels),
                "annotations": dict(annotations),
                "starts_at": _iso(alert["startsAt"]),
                # Go's zero time means "not ended yet".
                "ends_at": _iso(ends_at) if ends_at is not None and ends_at.year > 1 else None,
                "generator_url": alert.get("generatorURL"),
                "receiver": payload.get("receiver"),
                "external_url": payload.get("externalURL"),
                "group_key": payload.get("groupKey"),
            },
        ))
    return result
