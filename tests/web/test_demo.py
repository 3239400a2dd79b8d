"""`oncall demo` data makes every page show something real, and the demo people can sign in."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from oncall.clock import utcnow
from oncall.demo import load_demo
from oncall.handoffs.models import Handoff
from oncall.incidents.models import Incident
from oncall.schedules.models import Rotation
from oncall.web.demo import DEMO_PASSWORD


# The demo is loaded on whatever day someone tries it: the day its data is built around must not matter.
DEMO_DAYS = [
    datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc),    # a Wednesday afternoon
    datetime(2026, 3, 8, 6, 30, tzinfo=timezone.utc),    # Sunday, New York has just sprung forward
    datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc),  # Sunday, London falls back within the hour
    datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc),  # Thursday, the last half hour of the year
    datetime(2027, 2, 1, 4, 0, tzinfo=timezone.utc),     # a Monday before New York's 09:00 handoff
]


@pytest.mark.parametrize("day", DEMO_DAYS, ids=lambda at: at.strftime("%Y-%m-%dT%H:%M"))
def test_every_page_shows_demo_data(app, session, clock, day):
    clock.set(day)
    assert load_demo(session, now=utcnow()) is True
    session.commit()
    from tests.web.conftest import Browser

    b = Browser(app.test_client()).sign_in("alice@example.com", DEMO_PASSWORD)
    dashboard = b.get("/").get_data(as_text=True)
    assert "Payments primary" in dashboard and "Platform follow-the-sun" in dashboard
    assert "unacknowledged" in dashboard or "all acknowledged" in dashboard  # the demo has open incidents
    rotation = session.scalar(select(Rotation).where(Rotation.name == "Payments primary"))
    page = b.get(f"/rotations/{rotation.id}").get_data(as_text=True)
    assert "override: Covering Carol&#39;s evening" in page
    secondary = session.scalar(select(Rotation).where(Rotation.name == "Payments secondary"))
    assert "covering Bob Brown&#39;s PTO" in b.get(f"/rotations/{secondary.id}").get_data(as_text=True)
    handoff = session.scalar(select(Handoff))
    shown = b.get(f"/handoffs/{handoff.id}").get_data(as_text=True)
    assert "Checkout errors at 5%" in shown and "Card processor timeouts" in shown
    assert "Closed since last handoff" in shown and "rollback is ready" in shown
    draft = b.get(f"/rotations/{handoff.rotation_id}/handoff").get_data(as_text=True)
    assert "Search latency p99 above 2s" in draft and "New checkout deployment scheduled for tomorrow" in draft
    assert f'href="/handoffs/{handoff.id}"' in b.get(f"/rotations/{handoff.rotation_id}/handoffs").get_data(as_text=True)
    incidents = b.get("/incidents?status=all").get_data(as_text=True)
    assert "Card processor timeouts" in incidents and "Stale metrics on the cache dashboard" in incidents
    checkout = session.scalar(select(Incident).where(Incident.title == "Checkout errors at 5%"))
    incident_page = b.get(f"/incidents/{checkout.id}").get_data(as_text=True)
    assert "who acknowledged the Payments secondary handoff" in incident_page  # the ack passed on at the handoff
    assert checkout.acknowledged_by_id == handoff.incoming_user_id
    watch = b.get(f"/teams/{rotation.team_id}/watch-items").get_data(as_text=True)
    assert "TLS certificate for pay.example.com" in watch
    bob = Browser(app.test_client()).sign_in("bob@example.com", DEMO_PASSWORD)
    assert "Vacation" in bob.get("/time-off").get_data(as_text=True)
    assert load_demo(session, now=utcnow()) is False  # only once



def test_run_demo_says_where_to_sign_in_as_a_site_admin_and_as_a_plain_member(app, session):
    from oncall.people.models import TeamMember, User
    from oncall.web.demo import sign_in_lines

    load_demo(session, now=utcnow())
    lines = "\n".join(sign_in_lines("http://127.0.0.1:5000"))
    assert DEMO_PASSWORD in lines and "site admin: alice@example.com" in lines and "plain member: bob@example.com" in lines
    alice = session.scalar(select(User).where(User.email == "alice@example.com"))
    bob = session.scalar(select(User).where(User.email == "bob@example.com"))
    assert alice.is_admin and not bob.is_admin
    assert {m.role for m in session.scalars(select(TeamMember).where(TeamMember.user_id == bob.id))} == {"member"}
