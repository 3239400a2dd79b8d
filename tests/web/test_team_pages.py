"""Team pages: creating a team (site admins), a team's page (members and site admins only), its settings,
members, roles and invitations (team admins only), and the refusals for everyone else."""
import re

from sqlalchemy import select

from oncall.people.models import Team, TeamMember, User
from oncall.web.models import SignInLink


def _team(session, team_id) -> Team:
    session.expire_all()
    return session.get(Team, team_id)


def _roles(session, team_id) -> dict[int, str]:
    session.expire_all()
    return dict(session.execute(select(TeamMember.user_id, TeamMember.role).where(TeamMember.team_id == team_id)).all())


def test_site_admin_creates_a_team_without_joining_it(scenario, browser, make_person, session):
    root = make_person("Root Admin", admin=True)
    b = browser(root)
    assert 'id="team-form"' in b.get("/teams").get_data(as_text=True)
    created = b.post("/teams", {"name": "Search Infra", "slug": "", "time_zone": "Europe/Berlin"})
    assert created.status_code == 303
    team = session.scalar(select(Team).where(Team.slug == "search-infra"))
    assert (team.name, team.time_zone) == ("Search Infra", "Europe/Berlin")
    assert _roles(session, team.id) == {}  # they manage it as site admin; a member would be paged
    assert "Search Infra" in b.get(created.headers["Location"]).get_data(as_text=True)


def test_only_site_admins_create_teams(scenario, browser, session):
    b = browser(scenario.alice)  # a team admin, not a site admin
    assert 'id="team-form"' not in b.get("/teams").get_data(as_text=True)
    assert b.post("/teams", {"name": "Rogue", "time_zone": "UTC"}).status_code == 403
    assert session.scalar(select(Team).where(Team.name == "Rogue")) is None


def test_a_bad_team_shows_the_message_and_keeps_what_was_typed(scenario, browser, make_person, session):
    b = browser(make_person("Root Admin", admin=True))
    refused = b.post("/teams", {"name": "Ops", "slug": "", "time_zone": "Mars/Base"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'class="error">' in html and 'value="Mars/Base"' in html
    taken = b.post("/teams", {"name": "Web again", "slug": f"web-{scenario.alice.id}", "time_zone": "UTC"})
    assert taken.status_code == 409 and "Already in use." in taken.get_data(as_text=True)
    assert session.scalar(select(Team).where(Team.name.in_(["Ops", "Web again"]))) is None


def test_the_team_page_is_for_members_and_site_admins(scenario, browser, make_person):
    member = browser(scenario.bob).get(f"/teams/{scenario.team_id}").get_data(as_text=True)
    assert "Web primary" in member and scenario.carol.name in member
    assert 'id="invite-form"' not in member and 'id="team-settings-form"' not in member  # no buttons for members
    admin = browser(scenario.alice).get(f"/teams/{scenario.team_id}").get_data(as_text=True)
    assert 'id="invite-form"' in admin and 'id="team-settings-form"' in admin
    assert browser(scenario.outsider).get(f"/teams/{scenario.team_id}").status_code == 404
    assert browser(make_person("Root", admin=True)).get(f"/teams/{scenario.team_id}").status_code == 200
    assert "Web" not in browser(scenario.outsider).get("/teams").get_data(as_text=True).split("<h1>Teams</h1>")[1]


def test_team_admin_changes_settings_and_business_hours(scenario, browser, session):
    b = browser(scenario.alice)
    saved = b.post(f"/teams/{scenario.team_id}/settings", {"name": "Web Platform", "time_zone": "America/Chicago",
                                                             "days": ["tue", "mon"], "start": "08:30", "end": "18:00"})
    assert saved.status_code == 303
    team = _team(session, scenario.team_id)
    assert (team.name, team.time_zone, team.business_days) == ("Web Platform", "America/Chicago", "mon,tue")
    assert (team.business_start.isoformat(), team.business_end.isoformat()) == ("08:30:00", "18:00:00")


def test_bad_settings_change_nothing(scenario, browser, session):
    b = browser(scenario.alice)
    for bad, field in (({"end": "08:00"}, "end"), ({"days": ["funday"]}, "days"), ({"name": ""}, "name"),
                       ({"start": "25:00"}, "start")):
        form = {"name": "Renamed", "time_zone": "UTC", "days": ["mon"], "start": "09:00", "end": "17:00"} | bad
        refused = b.post(f"/teams/{scenario.team_id}/settings", form)
        assert refused.status_code == 422, bad
        assert 'class="error">' in refused.get_data(as_text=True), bad
    assert _team(session, scenario.team_id).name == "Web"


def test_members_cannot_change_the_team(scenario, browser, make_person, session):
    other_admin = make_person("Other Admin")
    from oncall.people import service as people

    other = people.create_team(session, name="Other", slug="other-team", time_zone="UTC")
    people.set_members(session, other, user_ids=[other_admin.id], admin_ids=[other_admin.id])
    session.commit()
    for who in (scenario.bob, other_admin):  # a plain member; an admin of another team
        b = browser(who)
        expected = 403 if who is scenario.bob else 404
        assert b.post(f"/teams/{scenario.team_id}/settings", {"name": "Hacked", "time_zone": "UTC",
                                                                "start": "09:00", "end": "17:00"}).status_code == expected
        assert b.post(f"/teams/{scenario.team_id}/members", {"email": who.email}).status_code == expected
        assert b.post(f"/teams/{scenario.team_id}/members/{scenario.carol.id}/remove").status_code == expected
        assert b.post(f"/teams/{scenario.team_id}/members/{scenario.bob.id}/role", {"role": "admin"}).status_code == expected
        assert b.post(f"/teams/{scenario.team_id}/invite", {"name": "X", "email": "x@example.com"}).status_code == expected
    assert _team(session, scenario.team_id).name == "Web"
    assert _roles(session, scenario.team_id) == {scenario.alice.id: "admin", scenario.bob.id: "member",
                                                 scenario.carol.id: "member"}


def test_the_api_refuses_the_same_people(scenario, client, session, make_person):
    from oncall.people.tokens import create_api_token
    from tests.conftest import ApiClient

    bob = ApiClient(client, create_api_token(session, user=scenario.bob))
    alice = ApiClient(client, create_api_token(session, user=scenario.alice))
    session.commit()
    assert bob.patch(f"/api/v1/teams/{scenario.team_id}", json={"name": "Hacked"}).status_code == 403
    assert bob.put(f"/api/v1/teams/{scenario.team_id}/members", json={"user_ids": [scenario.bob.id]}).status_code == 403
    assert alice.post("/api/v1/teams", json={"name": "Rogue", "slug": "rogue", "time_zone": "UTC"}).status_code == 403
    # a team admin cannot leave or drop their own admin role, through the API as through the web
    assert alice.put(f"/api/v1/teams/{scenario.team_id}/members",
                     json={"user_ids": [scenario.bob.id]}).status_code == 403
    assert alice.put(f"/api/v1/teams/{scenario.team_id}/members",
                     json={"user_ids": [scenario.alice.id], "admin_ids": []}).status_code == 403


def test_team_admin_adds_removes_and_promotes_members(scenario, browser, session):
    b = browser(scenario.alice)
    assert b.post(f"/teams/{scenario.team_id}/members", {"email": scenario.outsider.email.upper()}).status_code == 303
    assert scenario.outsider.id in _roles(session, scenario.team_id)
    assert b.post(f"/teams/{scenario.team_id}/members/{scenario.bob.id}/role", {"role": "admin"}).status_code == 303
    assert _roles(session, scenario.team_id)[scenario.bob.id] == "admin"
    assert b.post(f"/teams/{scenario.team_id}/members/{scenario.outsider.id}/remove").status_code == 303
    assert scenario.outsider.id not in _roles(session, scenario.team_id)
    unknown = b.post(f"/teams/{scenario.team_id}/members", {"email": "nobody@example.com"})
    assert unknown.status_code == 422 and "Nobody has this email." in unknown.get_data(as_text=True)
    # an admin cannot drop their own role or leave
    assert b.post(f"/teams/{scenario.team_id}/members/{scenario.alice.id}/role", {"role": "member"}).status_code == 403
    assert b.post(f"/teams/{scenario.team_id}/members/{scenario.alice.id}/remove").status_code == 403
    assert _roles(session, scenario.team_id)[scenario.alice.id] == "admin"


def test_invite_creates_the_person_with_an_unverified_phone_and_a_one_time_link(scenario, browser, session, client):
    b = browser(scenario.alice)
    invited = b.post(f"/teams/{scenario.team_id}/invite", {"name": "Dan New", "email": "dan@example.com",
                                                            "phone": "+1 415 555 0199", "time_zone": "Asia/Tokyo"})
    html = invited.get_data(as_text=True)
    assert invited.status_code == 201 and "shown only this once" in html
    dan = session.scalar(select(User).where(User.email == "dan@example.com"))
    assert (dan.phone, dan.phone_verified, dan.time_zone, dan.password_hash) == ("+14155550199", False, "Asia/Tokyo", None)
    assert _roles(session, scenario.team_id)[dan.id] == "member"
    link = re.search(r"https://oncall\.example\.com(/sign-in/link/[A-Za-z0-9_-]+)", html).group(1)
    # the link's page sets the password and signs Dan in; the link then no longer works
    page = client.get(link)
    assert page.status_code == 200 and "Welcome, Dan New" in page.get_data(as_text=True)
    from tests.web.conftest import csrf_from

    token = csrf_from(page)
    short = client.post(link, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 422 and "At least 10 characters." in short.get_data(as_text=True)
    done = client.post(link, data={"password": "a long new password", "confirm": "a long new password",
                                   "csrf_token": token})
    assert done.status_code == 303
    assert "Dan New" in client.get("/profile").get_data(as_text=True)
    assert client.get(link).status_code == 404
    # and the team now warns that Dan cannot be paged (if he were on a rotation): he is a member with no
    # verified phone, shown on the member list
    assert "phone not verified" in b.get(f"/teams/{scenario.team_id}").get_data(as_text=True)


def test_bad_invitations_create_nobody(scenario, browser, session):
    b = browser(scenario.alice)
    before = session.scalar(select(User.id).order_by(User.id.desc()))
    for bad in ({"email": "not-an-email"}, {"phone": "0415"}, {"name": ""}, {"time_zone": "Nowhere/Else"},
                {"email": scenario.bob.email}):
        form = {"name": "Eve", "email": "eve@example.com", "phone": "", "time_zone": "UTC"} | bad
        refused = b.post(f"/teams/{scenario.team_id}/invite", form)
        assert 400 <= refused.status_code < 500 and 'class="error">' in refused.get_data(as_text=True), bad
    assert session.scalar(select(User.id).order_by(User.id.desc())) == before
    assert session.scalar(select(SignInLink)) is None


def test_a_role_that_is_neither_admin_nor_member_is_refused(scenario, browser, session):
    refused = browser(scenario.alice).post(f"/teams/{scenario.team_id}/members/{scenario.bob.id}/role",
                                           {"role": "owner"})
    assert refused.status_code == 422 and "Admin or member." in refused.get_data(as_text=True)
    assert _roles(session, scenario.team_id)[scenario.bob.id] == "member"


def test_team_admin_enters_time_off_for_a_member_and_nobody_else_may(scenario, browser, make_person, session,
                                                                     client):
    from datetime import timedelta

    from oncall.people.tokens import create_api_token
    from oncall.schedules.models import TimeOff
    from oncall.web.timefmt import local_input
    from tests.conftest import ApiClient

    start = (scenario.now + timedelta(days=3)).replace(second=0, microsecond=0)
    form = {"user_id": str(scenario.carol.id), "start": local_input(start, "UTC"),
            "end": local_input(start + timedelta(days=2), "UTC"), "reason": "Conference"}
    assert browser(scenario.bob).post(f"/teams/{scenario.team_id}/time-off", form).status_code == 403
    outsider_form = form | {"user_id": str(scenario.outsider.id)}
    refused = browser(scenario.alice).post(f"/teams/{scenario.team_id}/time-off", outsider_form)
    assert refused.status_code == 422 and "Choose a member of this team." in refused.get_data(as_text=True)
    assert session.scalar(select(TimeOff)) is None
    assert browser(scenario.alice).post(f"/teams/{scenario.team_id}/time-off", form).status_code == 303
    entry = session.scalar(select(TimeOff))
    assert (entry.user_id, entry.reason, entry.start_at) == (scenario.carol.id, "Conference", start)
    # the API lets team admins do the same for their members, and nobody for others
    alice = ApiClient(client, create_api_token(session, user=scenario.alice))
    bob = ApiClient(client, create_api_token(session, user=scenario.bob))
    session.commit()
    body = {"start": (start + timedelta(days=10)).isoformat(), "end": (start + timedelta(days=11)).isoformat()}
    assert alice.post(f"/api/v1/users/{scenario.bob.id}/time-off", json=body).status_code == 201
    assert alice.post(f"/api/v1/users/{scenario.outsider.id}/time-off", json=body).status_code == 403
    assert bob.post(f"/api/v1/users/{scenario.carol.id}/time-off", json=body).status_code == 403
