"""Schemathesis against the API's own OpenAPI document: no input may produce a 500, and answers match
the documented schemas. (Driven through hypothesis directly: schemathesis' pytest plugin does not
support this pytest version.)

The run uses an administrator of its own, and never deletes that user or revokes that token: a run that
did would answer 401 to everything after it, and look green while testing nothing. After each operation
the token is checked to still work."""
import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from oncall.auth import OWN_AUTH_API_PATHS
from oncall.people.models import ApiToken
from oncall.people.service import ensure_user
from oncall.people.tokens import create_api_token, hash_token

EXAMPLES_PER_OPERATION = 20
# The operations are split into shards, each a test of its own, so that `pytest -n 2` (CI) spreads the run
# over both workers instead of one test holding one worker for minutes. Every operation is in exactly one.
SHARDS = 4
FUZZ_ADMIN = "fuzz-admin@example.com"


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture()
def fuzz_admin(session):
    """A fresh administrator and token for this run alone: (user id, token id, token)."""
    user = ensure_user(session, email=FUZZ_ADMIN, name="Fuzz admin", admin=True)
    token = create_api_token(session, user=user, name="fuzz")
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token)))
    session.commit()
    return user.id, token_id, token


def _removes_the_run_credentials(case, user_id: int, token_id: int) -> bool:
    if case.method.upper() != "DELETE":
        return False
    params = case.path_parameters or {}
    return ((case.operation.path == "/api/v1/users/{user_id}" and params.get("user_id") == user_id)
            or (case.operation.path == "/api/v1/tokens/{token_id}" and params.get("token_id") == token_id))


def _not_locked_out(ctx, response, case):
    # A 401 to a call carrying the run's token means the run lost it, and the rest would test nothing. (Negative
    # inputs may leave the header out on purpose: a 401 is right for those.)
    if case.operation.path in OWN_AUTH_API_PATHS:  # these take another kind of token
        return
    sent = response.request.headers.get("Authorization")
    assert not (sent and response.status_code == 401), f"{case.method} {case.formatted_path}: 401 with the run's token"


def test_the_fuzzed_document_has_every_operation(app):
    operations = _operations(app)
    assert len(operations) >= 25
    assert any(op.path == "/api/v1/tokens/{token_id}" and op.method.upper() == "DELETE" for op in operations)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_input_produces_a_server_error(app, client, fuzz_admin, make_rotation, shard, mode):
    user_id, token_id, token = fuzz_admin
    # Something for small ids to point at, so the fuzzer reaches the code behind the 404s.
    make_rotation(participants=3)
    make_rotation(participants=2)
    headers = {"Authorization": f"Bearer {token}"}
    operations = sorted(_operations(app), key=lambda op: op.label)[shard::SHARDS]
    assert operations
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode).filter(
            lambda case: not _removes_the_run_credentials(case, user_id, token_id))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                                     _not_locked_out])

        try:
            exercise()
        except Exception as exc:  # name the operation that failed
            pytest.fail(f"{operation.label} ({mode.value} inputs): {exc}")
        me = client.get(f"/api/v1/users/{user_id}", headers=headers)
        assert me.status_code == 200 and me.json["is_admin"], f"{operation.label} took the run's admin away"
