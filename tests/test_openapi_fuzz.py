"""Schemathesis against the API's own OpenAPI document: no input may produce a 500, and answers match
the documented schemas. (Driven through hypothesis directly: schemathesis' pytest plugin does not
support this pytest version.)"""
import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES_PER_OPERATION = 20


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_produces_a_server_error(app, api, make_rotation):
    # Something for small ids to point at, so the fuzzer reaches the code behind the 404s.
    make_rotation(participants=3)
    make_rotation(participants=2)
    headers = {"Authorization": f"Bearer {api.token}"}
    operations = _operations(app)
    assert len(operations) >= 25
    for operation, mode in [(op, mode) for op in operations for mode in GenerationMode]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            exercise()
        except Exception as exc:  # name the operation that failed
            pytest.fail(f"{operation.label} ({mode.value} inputs): {exc}")
