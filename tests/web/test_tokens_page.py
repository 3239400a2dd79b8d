"""The API tokens page: create (shown once), list with name, creation and last use, revoke; only one's own."""
import re
from datetime import timedelta

from sqlalchemy import select

from oncall.people import tokens
from oncall.people.models import ApiToken


def test_create_shows_the_token_once_and_it_works(scenario, browser, client, session):
    b = browser(scenario.bob)
    created = b.post("/tokens", {"name": "my laptop", "expires_at": ""})
    html = created.get_data(as_text=True)
    assert created.status_code == 201 and "shown only this once" in html
    secret = re.search(r'<code class="copy">(oncall_[^<]+)</code>', html).group(1)
    assert client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = b.get("/tokens").get_data(as_text=True)
    assert "my laptop" in listing and secret not in listing and "never" in listing


def test_the_list_shows_last_use_and_expiry(scenario, browser, session):
    now = scenario.now
    record, _ = tokens.issue_token(session, user=scenario.bob, name="cron", now=now,
                                   expires_at=now + timedelta(days=2))
    record.last_used_at = now - timedelta(hours=1)
    other, _ = tokens.issue_token(session, user=scenario.carol, name="carols script", now=now)
    session.commit()
    html = browser(scenario.bob).get("/tokens").get_data(as_text=True)
    row = html[html.index("<td>cron</td>"):]
    row = row[:row.index("</tr>")]
    assert row.count("UTC") == 3 and "never" not in row  # created, last used, expires
    assert "carols script" not in html


def test_revoke_removes_only_ones_own_token(scenario, browser, session):
    mine, _ = tokens.issue_token(session, user=scenario.bob, name="old", now=scenario.now)
    theirs, _ = tokens.issue_token(session, user=scenario.carol, name="carols", now=scenario.now)
    session.commit()
    b = browser(scenario.bob)
    assert b.post(f"/tokens/{theirs.id}/revoke").status_code == 404
    assert browser(scenario.alice).post(f"/tokens/{theirs.id}/revoke").status_code == 404  # team admin: no
    assert b.post(f"/tokens/{mine.id}/revoke").status_code == 303
    session.expire_all()
    assert set(session.scalars(select(ApiToken.name))) == {"carols"}


def test_bad_input_shows_the_message_and_creates_nothing(scenario, browser, session):
    b = browser(scenario.bob)
    refused = b.post("/tokens", {"name": "x" * 201, "expires_at": ""})
    assert refused.status_code == 422 and 'class="error">' in refused.get_data(as_text=True)
    assert 'value="' + "x" * 201 + '"' in refused.get_data(as_text=True)  # what was typed is kept
    assert session.scalars(select(ApiToken)).all() == []


def test_tokens_page_needs_signing_in(client):
    assert client.get("/tokens").status_code == 302
