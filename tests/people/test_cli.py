"""`oncall token create` prints a working token as its last line (only its hash is stored); `token list` and
`token revoke`; expiry from the command line."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from oncall.clock import utcnow
from oncall.people.models import ApiToken


def test_token_create_prints_a_token_that_works(app, client, session):
    # The console script builds its own app; drive the command inside the test app instead.
    cli_runner = app.test_cli_runner()
    from oncall.cli import token_create

    out = cli_runner.invoke(token_create, ["--email", "ops@example.com", "--admin"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    assert token.startswith("oncall_")
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert any(u["email"] == "ops@example.com" and u["is_admin"] for u in response.json)


def test_token_create_rejects_a_bad_email(app):
    from oncall.cli import token_create

    out = app.test_cli_runner().invoke(token_create, ["--email", "nope"])
    assert out.exit_code != 0
    assert "email" in out.output


def test_token_create_on_an_unmigrated_database_says_what_to_run(tmp_path):
    from oncall import create_app
    from oncall.cli import token_create
    from oncall.db import get_engine

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "SECRET_KEY": "test"})
    out = app.test_cli_runner().invoke(token_create, ["--email", "ops@example.com"])
    get_engine(app).dispose()
    assert out.exit_code != 0
    assert "oncall db upgrade" in out.output
    assert isinstance(out.exception, SystemExit)  # a clean usage error, not an OperationalError


def _run(app, command, args, **kwargs):
    return app.test_cli_runner().invoke(command, args, **kwargs)


def test_token_create_with_an_expiry(app, client, session):
    from oncall.cli import token_create

    before = utcnow().replace(microsecond=0)
    out = _run(app, token_create, ["--email", "ops@example.com", "--expires-in", "2h", "--token-name", "deploy bot"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    row = session.scalar(select(ApiToken).where(ApiToken.name == "deploy bot"))
    assert before + timedelta(hours=2) <= row.expires_at <= utcnow() + timedelta(hours=2)
    assert "expires" in out.output
    assert client.get("/api/v1/teams", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    at = _run(app, token_create, ["--email", "ops@example.com", "--expires-at", "2031-01-31T00:00:00+01:00"])
    assert at.exit_code == 0, at.output
    assert session.scalar(select(func.max(ApiToken.expires_at))) == datetime(2031, 1, 30, 23, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("args", "message"), [
    (["--expires-in", "0d"], "--expires-in"),
    (["--expires-in", "3 days"], "--expires-in"),
    (["--expires-in", "-1h"], "--expires-in"),
    (["--expires-at", "2020-01-01T00:00:00Z"], "--expires-at"),
    (["--expires-at", "2031-01-01T00:00:00"], "--expires-at"),  # no offset
    (["--expires-at", "tomorrow"], "--expires-at"),
    (["--expires-in", "1d", "--expires-at", "2031-01-01T00:00:00Z"], "not both"),
    (["--token-name", ""], "--token-name"),
    (["--token-name", "ci\nsecond line"], "--token-name"),
    (["--name", "Eve\r\nBEGIN:VEVENT"], "--name"),
    (["--name", "   "], "--name"),
    (["--name", "n" * 201], "--name"),
])
def test_token_create_refuses_a_bad_expiry(app, session, args, message):
    from oncall.cli import token_create

    before = session.scalar(select(func.count()).select_from(ApiToken))
    out = _run(app, token_create, ["--email", "ops@example.com", *args])
    assert out.exit_code != 0 and message in out.output, out.output
    assert session.scalar(select(func.count()).select_from(ApiToken)) == before


def test_token_list_shows_every_token_but_never_the_token(app, session, make_token):
    from oncall.cli import token_create, token_list

    first = make_token("first@example.com")
    second = _run(app, token_create, ["--email", "second@example.com", "--expires-in", "1h"]).output.split()[-1]
    session.execute(ApiToken.__table__.update().where(ApiToken.name == "cli").values(
        expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    out = _run(app, token_list, [])
    assert out.exit_code == 0, out.output
    assert "first@example.com" in out.output and "second@example.com" in out.output
    assert "(expired)" in out.output and "never" in out.output
    assert first not in out.output and second not in out.output
    only = _run(app, token_list, ["--email", "FIRST@example.com"])
    assert "first@example.com" in only.output and "second@example.com" not in only.output
    assert _run(app, token_list, ["--email", "nobody@example.com"]).exit_code != 0


def test_token_revoke_by_id_and_by_person(app, client, session, make_token):
    from oncall.cli import token_revoke

    def works(token):
        return client.get("/api/v1/teams", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    a1, a2, b = make_token("a@example.com"), make_token("a@example.com"), make_token("b@example.com")
    ids = dict(session.execute(select(ApiToken.token_hash, ApiToken.id)).all())
    from oncall.people.tokens import hash_token

    unknown = _run(app, token_revoke, [str(ids[hash_token(a1)]), "424242"])
    assert unknown.exit_code != 0 and "nothing was revoked" in unknown.output
    assert works(a1)
    out = _run(app, token_revoke, [str(ids[hash_token(a1)])])
    assert out.exit_code == 0 and f"Revoked 1 token(s): {ids[hash_token(a1)]}." in out.output
    assert not works(a1) and works(a2) and works(b)
    out = _run(app, token_revoke, ["--email", "A@example.com"])
    assert out.exit_code == 0 and "Revoked 1 token(s)" in out.output
    assert not works(a2) and works(b)
    assert _run(app, token_revoke, []).exit_code != 0
    assert _run(app, token_revoke, ["1", "--email", "b@example.com"]).exit_code != 0
