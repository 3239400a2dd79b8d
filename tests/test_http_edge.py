"""Rules every API route shares, checked over the whole URL map rather than one example each: a 405 says
which methods are allowed, a PATCH must say what to change, integer query parameters accept digits."""
import pytest

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SAMPLE_ARGS = {"severity": "SEV1"}  # every other path argument is an id


def _api_paths(app) -> dict[str, set[str]]:
    """Each /api/ URL (arguments filled in) and the methods its rules allow together."""
    adapter = app.url_map.bind("oncall.example.com")
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        values = {name: SAMPLE_ARGS.get(name, 1) for name in rule.arguments}
        path = adapter.build(rule.endpoint, values)
        paths.setdefault(path, set()).update(rule.methods)
    return paths


def test_every_405_lists_the_allowed_methods(app, api):
    paths = _api_paths(app)
    assert len(paths) >= 30
    checked = 0
    for path, allowed in paths.items():
        for method in METHODS:
            if method in allowed:
                continue
            response = api._call(method.lower(), path, json={"x": 1})
            assert response.status_code == 405, (method, path)
            assert response.json["error"]["code"] == "MethodNotAllowed"
            assert set(response.headers["Allow"].split(", ")) == allowed, (method, path)
            checked += 1
    assert checked > 50


def test_a_401_names_the_bearer_scheme(client):
    response = client.get("/api/v1/teams")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


PATCH_BODIES = {
    "no body": {},
    "empty object": {"json": {}},
    "a list": {"json": [{"name": "x"}]},
    "null": {"data": "null", "headers": {"Content-Type": "application/json"}},
    "not labelled as JSON": {"data": '{"name": "x"}', "headers": {"Content-Type": "text/plain"}},
}


@pytest.mark.parametrize("body", PATCH_BODIES.values(), ids=PATCH_BODIES.keys())
def test_a_patch_that_changes_nothing_is_refused_on_every_route(app, api, make_rotation, body):
    rotation = make_rotation()  # real ids behind the paths, so only the missing body can be the reason
    patch_paths = [path for path, methods in _api_paths(app).items() if "PATCH" in methods]
    assert len(patch_paths) >= 6
    for path in patch_paths:
        response = api.patch(path, **body)
        assert response.status_code == 422, (path, response.json)
        assert "_schema" in response.json["error"]["fields"], path
    assert api.get(f"/api/v1/rotations/{rotation['id']}").json["name"] == rotation["name"]


def test_an_unauthenticated_patch_is_a_401_before_its_body_is_looked_at(client):
    assert client.patch("/api/v1/users/1").status_code == 401


def test_integer_query_parameters_accept_digits_on_every_operation(client, api, make_rotation):
    make_rotation()
    spec = client.get("/api/v1/openapi.json").json
    checked = 0
    for template, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        path = template.replace("{severity}", "SEV1")
        while "{" in path:
            path = path[:path.index("{")] + "1" + path[path.index("}") + 1:]
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] != "query" or parameter["schema"].get("type") != "integer":
                continue
            response = api.get(path, query_string={parameter["name"]: "1"})
            fields = response.json.get("error", {}).get("fields", {}) if response.is_json and isinstance(
                response.json, dict) else {}
            assert parameter["name"] not in fields, (path, parameter["name"], response.json)
            checked += 1
    assert checked >= 4


def test_rotations_filter_by_team(api, make_rotation, make_team):
    first, second = make_rotation(), make_rotation()
    empty_team = make_team()
    assert [r["id"] for r in api.get(f"/api/v1/rotations?team_id={first['team_id']}").json] == [first["id"]]
    assert [r["id"] for r in api.get(f"/api/v1/rotations?team_id={second['team_id']}").json] == [second["id"]]
    assert api.get(f"/api/v1/rotations?team_id={empty_team['id']}").json == []
    assert {r["id"] for r in api.get("/api/v1/rotations").json} >= {first["id"], second["id"]}
    for bad in ("0", "-1", "x", "1.5", str(2**31)):
        response = api.get(f"/api/v1/rotations?team_id={bad}")
        assert response.status_code == 422 and "team_id" in response.json["error"]["fields"], bad
