"""The incident page's actions: escalate now, add a note, hand to a person, change severity; the timeline
to the second in the reader's zone, named."""
import re

import pytest
from sqlalchemy import func, select

from oncall.clock import utcnow
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident, TimelineEvent
from oncall.paging.models import Notification
from oncall.people import service as people
from oncall.people.models import Team


@pytest.fixture()
def incident(scenario, session):
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV3", title="Search slow",
                                            now=utcnow())
    session.commit()
    return incident


def _events(session, incident) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(TimelineEvent.kind).where(TimelineEvent.incident_id == incident.id)
                                .order_by(TimelineEvent.id)))


def test_timeline_to_the_second_in_the_readers_zone(scenario, browser, session, incident, make_person):
    reader = make_person("Nia York", time_zone="America/New_York")
    people.set_members(session, session.get(Team, scenario.team_id),
                       user_ids=[scenario.alice.id, scenario.bob.id, scenario.carol.id, reader.id],
                       admin_ids=[scenario.alice.id])
    session.commit()
    html = browser(reader).get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "times in America/New_York" in html
    assert re.search(r"\w{3} \w{3} \d+ \d\d:\d\d:\d\d E[SD]T", html)  # seconds, and the zone's abbreviation
    assert "Escalate now</button>" in html and "Add note</button>" in html and "Change severity</button>" in html
    assert "Notifications" in html


def test_escalate_note_reassign_and_severity(scenario, browser, session, incident):
    b = browser(scenario.bob)
    assert b.post(f"/incidents/{incident.id}/escalate").status_code == 303
    assert "escalated" in _events(session, incident)
    response = b.post(f"/incidents/{incident.id}/notes", {"text": "  Rolled back deploy 42  "})
    assert response.status_code == 303
    assert "Rolled back deploy 42" in b.get(f"/incidents/{incident.id}").get_data(as_text=True)
    response = b.post(f"/incidents/{incident.id}/reassign", {"user_id": str(scenario.carol.id)})
    assert response.status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Notification).where(
        Notification.incident_id == incident.id, Notification.user_id == scenario.carol.id,
        Notification.step == incidents.REASSIGN_STEP)) == 2
    response = b.post(f"/incidents/{incident.id}/severity", {"severity": "SEV1"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Incident, incident.id).severity == "SEV1"
    assert _events(session, incident)[-1] in ("step", "uncovered", "unreachable")
    assert "severity_changed" in _events(session, incident)
    page = b.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Severity changed from SEV3 to SEV1" in page and "severity changed" in page


@pytest.mark.parametrize("path,data,message", [
    ("notes", {"text": "   "}, "Length must be between 1 and 5000."),
    ("notes", {"text": "x" * 5001}, "Length must be between 1 and 5000."),
    ("reassign", {"user_id": "abc"}, "Not a valid integer."),
    ("reassign", {"user_id": ""}, "Not a valid integer."),
    ("severity", {"severity": "SEV9"}, "Must be one of: SEV1, SEV2, SEV3, SEV4."),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(scenario, browser, session, incident, path, data,
                                                                 message):
    before = _events(session, incident)
    response = browser(scenario.bob).post(f"/incidents/{incident.id}/{path}", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _events(session, incident) == before


def test_reassign_to_someone_outside_the_team_is_refused(scenario, browser, session, incident):
    before = _events(session, incident)
    response = browser(scenario.bob).post(f"/incidents/{incident.id}/reassign", {"user_id": str(scenario.outsider.id)})
    assert response.status_code == 422 and "Choose a member of the incident" in response.get_data(as_text=True)
    assert _events(session, incident) == before


def test_outsiders_and_forged_forms_change_nothing(scenario, browser, session, incident, make_person):
    # An incident of another team: a member of this team is an outsider there.
    other = people.create_team(session, name="Other", slug=f"other-{incident.id}", time_zone="UTC")
    people.set_members(session, other, user_ids=[scenario.outsider.id], admin_ids=[])
    theirs, _ = incidents.create_incident(session, team_id=other.id, severity="SEV2", title="Theirs", now=utcnow())
    session.commit()
    before = _events(session, theirs)
    b = browser(scenario.bob)
    for path, data in [("escalate", {}), ("notes", {"text": "hi"}), ("reassign", {"user_id": str(scenario.bob.id)}),
                       ("severity", {"severity": "SEV1"}), ("notes", {"text": ""})]:
        assert b.post(f"/incidents/{theirs.id}/{path}", data).status_code == 403, path
    assert b.post(f"/incidents/{incident.id}/escalate", csrf=False).status_code == 400
    assert b.post("/incidents/999999/notes", {"text": "x"}).status_code == 404
    assert _events(session, theirs) == before
    assert "Escalate now" not in b.get(f"/incidents/{theirs.id}").get_data(as_text=True)
