"""Passwords: change one's own; an admin sets a first password or makes a one-time sign-in link, for whom."""
import re

from sqlalchemy import select

from oncall.people import service as people
from oncall.people.models import User
from tests.web.conftest import PASSWORD


def test_change_password_needs_the_current_one_and_ends_other_sessions(scenario, browser, app):
    b, other = browser(scenario.bob), browser(scenario.bob)
    wrong = b.post("/password", {"current_password": "nope", "new_password": "a new long password",
                                 "confirm": "a new long password"})
    assert wrong.status_code == 422 and "Wrong password." in wrong.get_data(as_text=True)
    differ = b.post("/password", {"current_password": PASSWORD, "new_password": "a new long password",
                                  "confirm": "another long password"})
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)
    short = b.post("/password", {"current_password": PASSWORD, "new_password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert browser(scenario.bob).get("/profile").status_code == 200  # nothing changed yet: the old one works
    ok = b.post("/password", {"current_password": PASSWORD, "new_password": "a new long password",
                              "confirm": "a new long password"})
    assert ok.status_code == 303
    assert b.get("/profile").status_code == 200  # this session goes on
    assert other.get("/profile").status_code == 302  # the other one is signed out
    browser().sign_in(scenario.bob.email, "a new long password")


def test_site_admin_sets_a_first_password_or_makes_a_link(scenario, browser, make_person, session):
    root = browser(make_person("Root", admin=True))
    newbie = people.create_user(session, name="Newbie", email="newbie@example.com", phone=None, time_zone="UTC")
    session.commit()
    page = root.post(f"/people/{newbie.id}/sign-in", {"action": "link"})
    assert page.status_code == 201
    link = re.search(r"https://oncall\.example\.com(/sign-in/link/[A-Za-z0-9_-]+)", page.get_data(as_text=True))
    assert link
    assert root.post(f"/people/{newbie.id}/sign-in", {"action": "password", "password": "first password!",
                                                     "confirm": "first password!"}).status_code == 303
    browser().sign_in("newbie@example.com", "first password!")


def test_team_admins_only_for_their_own_new_people_and_members_never(scenario, browser, session):
    newbie = people.create_user(session, name="Newbie", email="newbie@example.com", phone=None, time_zone="UTC")
    team = people.get_team(session, scenario.team_id)
    people.set_members(session, team, user_ids=team.member_ids + [newbie.id], admin_ids=None)
    session.commit()
    alice, bob = browser(scenario.alice), browser(scenario.bob)
    assert alice.post(f"/people/{newbie.id}/sign-in", {"action": "link"}).status_code == 201
    # Bob has a password: no team admin may take his account over
    assert alice.post(f"/people/{scenario.bob.id}/sign-in", {"action": "link"}).status_code == 403
    assert alice.post(f"/people/{scenario.bob.id}/sign-in", {"action": "password", "password": "x" * 12,
                                                            "confirm": "x" * 12}).status_code == 403
    # an outsider with no password is not in Alice's team
    loner = people.create_user(session, name="Loner", email="loner@example.com", phone=None, time_zone="UTC")
    session.commit()
    assert alice.get(f"/people/{loner.id}/sign-in").status_code == 403
    # a plain member may not, even for the new person of their team
    assert bob.post(f"/people/{newbie.id}/sign-in", {"action": "link"}).status_code == 403
    session.expire_all()
    assert session.get(User, scenario.bob.id).password_hash is not None


def test_a_new_link_replaces_the_old_and_links_expire(scenario, browser, make_person, session, clock):
    root = browser(make_person("Root", admin=True))
    newbie = people.create_user(session, name="Newbie", email="newbie@example.com", phone=None, time_zone="UTC")
    session.commit()

    def make() -> str:
        html = root.post(f"/people/{newbie.id}/sign-in", {"action": "link"}).get_data(as_text=True)
        return re.search(r"https://oncall\.example\.com(/sign-in/link/[A-Za-z0-9_-]+)", html).group(1)

    first, second = make(), make()
    anonymous = browser()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    from datetime import timedelta

    clock.set(clock() + timedelta(days=3, minutes=1))
    assert anonymous.get(second).status_code == 404
    assert anonymous.get("/sign-in/link/" + "x" * 200).status_code == 404
