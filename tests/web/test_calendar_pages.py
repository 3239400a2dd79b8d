"""Week and month calendars on the rotation page and the team calendar: zone named, overrides, PTO cover and
gaps distinct, the rotation's zone one click away, DST days, bad arguments, query counts."""
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest

from oncall.people import service as people
from oncall.schedules import service as schedules
from tests.web.test_dashboard import _count_queries

UTC = timezone.utc
# Wednesday 4 March 2026; New York springs forward on Sunday 8 March.
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture()
def setup(clock, session, make_person):
    clock.set(NOW)
    ann = make_person("Ann A", time_zone="America/New_York")
    ben, cat = make_person("Ben B"), make_person("Cat C")
    team = people.create_team(session, name="Pay", slug="pay", time_zone="Europe/Berlin")
    people.set_members(session, team, user_ids=[ann.id, ben.id, cat.id], admin_ids=[ann.id])
    rotation = schedules.create_rotation(session, team_id=team.id, name="Pay primary", time_zone="Europe/Berlin",
                                         handoff_time=time(9), shift_length={"unit": "days", "count": 1},
                                         start_date=date(2026, 3, 2), participant_ids=[ann.id, ben.id])
    session.commit()
    return team, rotation, ann, ben, cat


def _bars(html: str) -> list[str]:
    return re.findall(r'<svg class="bar (bar-\w+)"', html)


def test_week_view_in_my_zone_with_override_pto_and_gap(setup, session, browser):
    team, rotation, ann, ben, cat = setup
    schedules.add_override(session, rotation_id=rotation.id, user_id=cat.id, start_at=NOW,
                           end_at=NOW + timedelta(hours=3), reason="dentist swap", now=NOW)
    # Ben away Thursday: Ann covers. Both away Saturday: nobody.
    schedules.add_time_off(session, user_id=ben.id, start_at=datetime(2026, 3, 5, 0, tzinfo=UTC),
                           end_at=datetime(2026, 3, 6, 0, tzinfo=UTC), now=NOW)
    for person in (ann, ben):
        schedules.add_time_off(session, user_id=person.id, start_at=datetime(2026, 3, 7, 8, tzinfo=UTC),
                               end_at=datetime(2026, 3, 8, 8, tzinfo=UTC), now=NOW)
    session.commit()
    html = browser(ann).get(f"/rotations/{rotation.id}").get_data(as_text=True)
    grid = html[html.index('id="schedule-grid"'):]
    assert "Week of Mar 2, 2026" in grid and "times in America/New_York" in grid
    kinds = set(_bars(grid))
    assert {"bar-rotation", "bar-override", "bar-time_off", "bar-uncovered"} <= kinds
    assert "Cat C (override: dentist swap)" in grid and "covering Ben B&#39;s PTO" in grid
    assert "nobody" in grid
    # New York's Sunday 8 March has 23 hours, and the grid says so.
    assert "23h" in grid
    # The rotation's zone is one click away.
    assert "Show in Europe/Berlin" in grid
    berlin = browser(ann).get(f"/rotations/{rotation.id}?zone=home").get_data(as_text=True)
    assert "times in Europe/Berlin" in berlin and "Show in my zone (America/New_York)" in berlin
    assert "09:00–09:00" in berlin and "03:00–03:00" in grid  # daily 09:00 Berlin handoffs, in each zone
    assert "23h" not in berlin  # Berlin changes its clocks later in March


def test_month_view_and_navigation(setup, browser):
    _team, rotation, ann, *_ = setup
    b = browser(ann)
    html = b.get(f"/rotations/{rotation.id}?view=month&start=2026-03-15").get_data(as_text=True)
    assert "March 2026" in html and html.count('class="cal-week"') == 6
    assert f"/rotations/{rotation.id}?view=month&amp;start=2026-02-01" in html  # previous month
    assert f"/rotations/{rotation.id}?view=month&amp;start=2026-04-01" in html
    week = b.get(f"/rotations/{rotation.id}?view=week&start=2026-03-11").get_data(as_text=True)
    assert "Week of Mar 9, 2026" in week and week.count('class="cal-week"') == 1
    # Nonsense falls back to this week rather than failing.
    for args in ("view=year", "start=2026-02-30", "start=0001-01-01", "start=abc&view=month"):
        response = b.get(f"/rotations/{rotation.id}?{args}")
        assert response.status_code == 200, args


def test_team_calendar_has_a_lane_per_rotation(setup, session, browser, make_person):
    team, rotation, ann, ben, cat = setup
    schedules.create_rotation(session, team_id=team.id, name="Pay secondary", time_zone="UTC", handoff_time=time(0),
                              shift_length={"unit": "weeks", "count": 1}, start_date=date(2026, 3, 2),
                              participant_ids=[cat.id])
    session.commit()
    html = browser(make_person("Sam Site", admin=True)).get(f"/teams/{team.id}/calendar").get_data(as_text=True)
    assert browser(make_person("Olly O")).get(f"/teams/{team.id}/calendar").status_code == 404, "outsiders see nothing"
    assert "Pay primary" in html and "Pay secondary" in html and "times in UTC" in html
    assert html.count('<svg class="lane"') == 2
    assert "Show in Europe/Berlin" in html
    assert browser(ann).get("/teams/999999/calendar").status_code == 404
    assert browser().get(f"/teams/{team.id}/calendar").status_code == 302


def test_calendar_query_count_does_not_grow(setup, app, session, browser, make_person):
    team, rotation, ann, ben, cat = setup
    b = browser(ann)
    schedules.add_override(session, rotation_id=rotation.id, user_id=cat.id, start_at=NOW + timedelta(hours=20),
                           end_at=NOW + timedelta(hours=21), reason="one", now=NOW)
    session.commit()
    small = _count_queries(app, lambda: b.get(f"/teams/{team.id}/calendar?view=month"))
    for i in range(12):
        r = schedules.create_rotation(session, team_id=team.id, name=f"R{i}", time_zone="Asia/Kolkata",
                                      handoff_time=time(9), shift_length={"unit": "hours", "count": 8},
                                      start_date=date(2026, 2, 1), participant_ids=[ann.id, ben.id, cat.id])
        schedules.add_override(session, rotation_id=r.id, user_id=cat.id, start_at=NOW + timedelta(days=i),
                               end_at=NOW + timedelta(days=i, hours=2), now=NOW)
        schedules.add_time_off(session, user_id=ben.id, start_at=NOW + timedelta(days=i, hours=5),
                               end_at=NOW + timedelta(days=i, hours=6), now=NOW)
    session.commit()
    large = _count_queries(app, lambda: b.get(f"/teams/{team.id}/calendar?view=month"))
    assert large == small
    few = _count_queries(app, lambda: b.get(f"/rotations/{rotation.id}?view=month"))
    first = list(_count_queries.last)
    for i in range(1, 20):
        schedules.add_override(session, rotation_id=rotation.id, user_id=cat.id,
                               start_at=NOW + timedelta(days=i, hours=12), end_at=NOW + timedelta(days=i, hours=13),
                               reason=f"swap {i}", now=NOW)
    session.commit()
    many = _count_queries(app, lambda: b.get(f"/rotations/{rotation.id}?view=month"))
    assert many == few, (first, _count_queries.last)
