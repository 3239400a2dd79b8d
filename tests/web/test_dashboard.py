"""The responder's dashboard: incidents first, my shift, who is on call, gaps, handoffs, refresh, query count."""
from datetime import date, time, timedelta

import pytest
from sqlalchemy import event

from oncall.db import get_engine
from oncall.handoffs.models import Handoff
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident
from oncall.people import service as people
from oncall.schedules import service as schedules
from tests.conftest import TEST_NOW  # Wednesday 4 March 2026, 15:00 UTC


@pytest.fixture()
def team_of(session, make_person):
    """team_of(name, members, handoff=time(9)): a team with a daily UTC rotation of `members` in order,
    started on Monday 2 March 2026 at `handoff` (so on Wednesday at 15:00 the third member is on call)."""
    def make(name, members, *, handoff=time(9), admins=()):
        team = people.create_team(session, name=name, slug=name.lower().replace(" ", "-"), time_zone="UTC")
        people.set_members(session, team, user_ids=[m.id for m in members], admin_ids=[a.id for a in admins])
        rotation = schedules.create_rotation(session, team_id=team.id, name=f"{name} primary", time_zone="UTC",
                                             handoff_time=handoff, shift_length={"unit": "days", "count": 1},
                                             start_date=date(2026, 3, 2), participant_ids=[m.id for m in members])
        session.commit()
        return team, rotation
    return make


def _incident(session, team, severity, title, *, at, ack_by=None):
    incident, _ = incidents.create_incident(session, team_id=team.id, severity=severity, title=title, now=at)
    if ack_by is not None:
        incidents.acknowledge(session, incident, user_id=ack_by.id, via="web", now=at + timedelta(minutes=1))
    session.commit()
    return incident


def test_incidents_first_unacknowledged_then_severity_then_age(clock, session, make_person, team_of, browser):
    ann, ben, cat = make_person("Ann A"), make_person("Ben B"), make_person("Cat C")
    pay, _ = team_of("Pay", [ann, ben, cat])
    other, _ = team_of("Other", [make_person("Olly O")])
    _incident(session, pay, "SEV1", "Acked outage", at=TEST_NOW - timedelta(hours=2), ack_by=ben)
    _incident(session, pay, "SEV3", "Old slowness", at=TEST_NOW - timedelta(hours=5))
    _incident(session, pay, "SEV2", "Checkout errors", at=TEST_NOW - timedelta(minutes=10))
    _incident(session, other, "SEV1", "Not my team's", at=TEST_NOW - timedelta(minutes=1))
    html = browser(ann).get("/").get_data(as_text=True)
    assert "2 unacknowledged" in html and "1 acknowledged" in html
    positions = [html.index(t) for t in ("Checkout errors", "Old slowness", "Acked outage")]
    assert positions == sorted(positions)
    assert "Not my team&#39;s" not in html and "Not my team's" not in html
    acked = html[html.index("Acked outage"):]
    acked = acked[:acked.index("</li>")]
    assert "acknowledged</span> by Ben B" in acked and "Acknowledge</button>" not in acked
    checkout = html[html.index("Checkout errors"):]
    checkout = checkout[:checkout.index("</li>")]
    assert "10m old" in checkout and "Pay" in checkout and "Acknowledge</button>" in checkout
    assert "paged Cat C" in checkout  # Wednesday 15:00: Cat's shift, the default policy pages the on-call


def test_acknowledge_from_the_dashboard_comes_back_to_it(clock, session, make_person, team_of, browser):
    ann, olly = make_person("Ann A"), make_person("Olly Outsider")
    pay, _ = team_of("Pay", [ann])
    incident = _incident(session, pay, "SEV1", "Down", at=TEST_NOW)
    refused = browser(olly).post(f"/incidents/{incident.id}/acknowledge", {"next": "/"})
    assert refused.status_code == 403
    b = browser(ann)
    assert b.post(f"/incidents/{incident.id}/acknowledge", {"next": "https://evil.example/"}).headers["Location"] == "/"
    session.expire_all()
    assert session.get(Incident, incident.id).acknowledged_by_id == ann.id
    assert "1 open, all acknowledged" in b.get("/").get_data(as_text=True)


def test_my_shift_now_and_next_with_handoff_i_owe(clock, session, make_person, team_of, browser):
    ann, ben, cat = make_person("Ann A", time_zone="America/New_York"), make_person("Ben B"), make_person("Cat C")
    team_of("Pay", [ann, ben, cat])  # Wed 15:00 UTC: Cat until Thu 09:00 UTC, then Ann
    cat_html = browser(cat).get("/").get_data(as_text=True)
    assert "You are on call</strong> for" in cat_html and "until Thu Mar 5 09:00 UTC" in cat_html
    assert "Write the Pay primary handoff" in cat_html  # Cat hands over at Thursday 09:00
    ann_html = browser(ann).get("/").get_data(as_text=True)
    assert "You are next on call for" in ann_html and "from Thu Mar 5 04:00 EST" in ann_html  # her own zone
    assert "Write the Pay primary handoff" not in ann_html
    assert 'href="tel:+1415666' in ann_html  # tap to call the on-call


def test_pending_handoff_to_acknowledge_and_overdue_draft(clock, session, make_person, team_of, browser):
    ann, ben = make_person("Ann A"), make_person("Ben B")
    clock.set(TEST_NOW.replace(hour=9, minute=30))  # half an hour after Wednesday's 09:00 change, no handoff
    pay, rotation = team_of("Pay", [ann, ben])  # Mon Ann, Tue Ben, Wed Ann
    html = browser(ben).get("/").get_data(as_text=True)
    row = html[html.index(f'id="rotation-{rotation.id}"'):]
    assert "Handoff for Wed Mar 4 09:00 UTC" in row and "overdue" in row.split("</dl>")[0]
    assert "Write the Pay primary handoff" in html and "overdue" in html  # Ben owes it
    session.add(Handoff(rotation_id=rotation.id, team_id=pay.id, shift_change_at=TEST_NOW.replace(hour=9),
                        outgoing_user_id=ben.id, incoming_user_id=ann.id, state="submitted", notes="",
                        submitted_by_id=ben.id, submitted_at=TEST_NOW.replace(hour=9, minute=20)))
    session.commit()
    assert "Acknowledge the Pay primary handoff" in browser(ann).get("/").get_data(as_text=True)
    assert "overdue" not in browser(ben).get("/").get_data(as_text=True).split('id="team-')[0]


def test_coverage_gaps_in_the_next_seven_days(clock, session, make_person, team_of, browser):
    ann = make_person("Ann A")
    _, rotation = team_of("Solo", [ann])
    schedules.add_time_off(session, user_id=ann.id, start_at=TEST_NOW + timedelta(days=2),
                           end_at=TEST_NOW + timedelta(days=2, hours=6), now=TEST_NOW)
    schedules.add_time_off(session, user_id=ann.id, start_at=TEST_NOW + timedelta(days=9),
                           end_at=TEST_NOW + timedelta(days=10), now=TEST_NOW)
    session.commit()
    html = browser(ann).get("/").get_data(as_text=True)
    gaps = html[html.index('class="gaps"'):].split("</dd>")[0]
    assert "nobody on call Fri Mar 6 15:00 UTC – Fri Mar 6 21:00 UTC" in gaps
    assert "Mar 13" not in gaps  # beyond seven days


def test_teams_shown_members_theirs_admins_all_with_a_filter(clock, session, make_person, team_of, browser):
    ann, olly, root = make_person("Ann A"), make_person("Olly O"), make_person("Root R", admin=True)
    pay, _ = team_of("Pay", [ann])
    search, _ = team_of("Search", [olly])
    ann_html = browser(ann).get("/").get_data(as_text=True)
    assert "Pay primary" in ann_html and "Search primary" not in ann_html
    assert 'name="team_id"' not in ann_html
    admin = browser(root)
    everything = admin.get("/").get_data(as_text=True)
    assert "Pay primary" in everything and "Search primary" in everything and 'name="team_id"' in everything
    only = admin.get(f"/?team_id={search.id}").get_data(as_text=True)
    assert "Search primary" in only and "Pay primary" not in only
    assert "Pay primary" in admin.get("/?team_id=nonsense").get_data(as_text=True)
    assert "You are in no team yet" in browser(make_person("New N")).get("/").get_data(as_text=True)


def test_live_part_refreshes_and_works_without_javascript(clock, session, make_person, team_of, browser):
    ann = make_person("Ann A")
    pay, _ = team_of("Pay", [ann])
    b = browser(ann)
    page = b.get("/").get_data(as_text=True)
    assert 'data-src="/dashboard/live"' in page and 'src="/static/dashboard.js"' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    _incident(session, pay, "SEV2", "Fresh one", at=TEST_NOW)
    live = b.get("/dashboard/live")
    assert live.status_code == 200 and live.headers["Cache-Control"] == "no-store"
    text = live.get_data(as_text=True)
    assert "Fresh one" in text and "<html" not in text
    assert browser().get("/dashboard/live").status_code == 302  # signed out: to sign-in, like the page


def _count_queries(app, fn) -> int:
    count = 0
    _count_queries.last = []

    def counter(_conn, _cursor, statement, *_args):
        nonlocal count
        count += 1
        _count_queries.last.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


@pytest.mark.parametrize("page", ["/", "/dashboard/live"])
def test_query_count_does_not_grow_with_teams_and_rotations(clock, app, session, make_person, team_of, browser, page):
    root = make_person("Root R", admin=True)
    people_pool = [make_person(f"P{i} X") for i in range(4)]

    def grow(n_teams: int):
        for t in range(n_teams):
            team, rotation = team_of(f"T{len(grown)} {t}", people_pool[:3])
            schedules.create_rotation(session, team_id=team.id, name="secondary", time_zone="Europe/Berlin",
                                      handoff_time=time(9), shift_length={"unit": "weeks", "count": 1},
                                      start_date=date(2026, 3, 2), participant_ids=[p.id for p in people_pool])
            schedules.add_override(session, rotation_id=rotation.id, user_id=people_pool[3].id,
                                   start_at=TEST_NOW + timedelta(hours=1), end_at=TEST_NOW + timedelta(hours=5),
                                   reason="swap", now=TEST_NOW)
            _incident(session, team, "SEV2", f"Incident {t}", at=TEST_NOW)
            grown.append(team)
        session.commit()

    grown: list = []
    b = browser(root)
    grow(1)  # 2 rotations
    small = _count_queries(app, lambda: b.get(page))
    grow(24)  # 50 rotations
    response = None

    def get():
        nonlocal response
        response = b.get(page)
    large = _count_queries(app, get)
    assert response.status_code == 200 and response.get_data(as_text=True).count('class="rotation-row"') == 50
    assert large == small, (small, large)
