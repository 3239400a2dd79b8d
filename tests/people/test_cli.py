"""`oncall token create` prints a working token as its last line; only its hash is stored."""
from sqlalchemy import select

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
