"""`oncall run --demo` prints the same API token at every start (kept 0600 in the instance folder, stored
hashed like any other) and replaces it once it no longer works."""
import stat

from sqlalchemy import func, select

from oncall.clock import utcnow
from oncall.demo import DEMO_TOKEN_FILE, demo_api_token
from oncall.people.models import ApiToken
from oncall.people.tokens import get_token, hash_token, revoke


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(ApiToken))


def test_the_demo_token_is_reused_until_it_stops_working(client, session, tmp_path):
    token, path = demo_api_token(session, instance_path=str(tmp_path), now=utcnow())
    session.commit()
    assert path == tmp_path / DEMO_TOKEN_FILE and path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session.scalar(select(ApiToken.token_hash).where(ApiToken.name == "demo")) == hash_token(token)
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    tokens_before = _count(session)
    again, _ = demo_api_token(session, instance_path=str(tmp_path), now=utcnow())
    assert again == token and _count(session) == tokens_before  # no new admin token per start

    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    revoke(session, get_token(session, row.id))
    session.commit()
    replaced, _ = demo_api_token(session, instance_path=str(tmp_path), now=utcnow())
    session.commit()
    assert replaced != token and path.read_text().strip() == replaced
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {replaced}"}).status_code == 200


def test_a_token_file_from_another_database_is_replaced(session, tmp_path):
    (tmp_path / DEMO_TOKEN_FILE).write_text("oncall_from_some_other_database\n")
    token, path = demo_api_token(session, instance_path=str(tmp_path), now=utcnow())
    assert token != "oncall_from_some_other_database" and path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
