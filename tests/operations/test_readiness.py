"""`oncall check`: every setting a deployment needs, each line saying what is set or what is missing."""
import subprocess

import pytest

from oncall import create_app, schema
from oncall.db import get_engine
from oncall.operations import readiness
from tests.escalation import processes

GOOD = {"ENV": "production", "SECRET_KEY": "k" * 64, "DATABASE_URL": "postgresql+psycopg://oncall:hunter2@db/oncall",
        "PUBLIC_URL": "https://oncall.example.com", "TWILIO_ACCOUNT_SID": "AC" + "a1" * 16,
        "TWILIO_AUTH_TOKEN": "0f" * 16, "TWILIO_FROM_NUMBER": "+14155550100", "METRICS_TOKEN": "m"}


def _states(config) -> dict[str, str]:
    return {f.name: f.state for f in readiness.settings(config)}


def test_a_complete_production_configuration_has_no_problem_and_hides_its_secrets():
    findings = readiness.settings(GOOD)
    assert not [f for f in findings if f.problem]
    text = readiness.render(findings)
    assert "hunter2" not in text and "k" * 64 not in text and "0f" * 16 not in text
    assert "postgresql+psycopg://oncall:***@db/oncall" in text


@pytest.mark.parametrize(("change", "name", "state"), [
    ({"SECRET_KEY": "dev-only-change-me"}, "ONCALL_SECRET_KEY", readiness.BAD),
    ({"SECRET_KEY": None}, "ONCALL_SECRET_KEY", readiness.MISSING),
    ({"SECRET_KEY": "short"}, "ONCALL_SECRET_KEY", readiness.BAD),
    ({"PUBLIC_URL": "http://oncall.example.com"}, "ONCALL_PUBLIC_URL", readiness.BAD),
    ({"TWILIO_ACCOUNT_SID": "SK123"}, "TWILIO_ACCOUNT_SID", readiness.BAD),
    ({"TWILIO_AUTH_TOKEN": "not-a-token"}, "TWILIO_AUTH_TOKEN", readiness.BAD),
    ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN", readiness.MISSING),
    ({"TWILIO_FROM_NUMBER": "4155550100"}, "TWILIO_FROM_NUMBER", readiness.BAD),
    ({"TWILIO_BASE_URL": "http://127.0.0.1:9"}, "ONCALL_TWILIO_BASE_URL", readiness.BAD),
    ({"ENV": "prod"}, "ONCALL_ENV", readiness.BAD),
])
def test_each_problem_names_its_setting(change, name, state):
    assert _states(GOOD | change)[name] == state


def test_production_without_a_database_or_twilio_is_missing_them_and_development_only_notes_it():
    bare = {"ENV": "production", "SECRET_KEY": "k" * 64, "PUBLIC_URL": "https://oncall.example.com"}
    states = _states(bare)
    assert states["ONCALL_DATABASE_URL"] == readiness.MISSING
    assert states["TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"] == readiness.MISSING
    states = _states(bare | {"ENV": "development", "PUBLIC_URL": "http://127.0.0.1:5000"})
    assert set(states.values()) <= {readiness.OK, readiness.NOTE}
    assert _states(bare | {"NOTIFIER": "console"})["TWILIO_*"] == readiness.NOTE


def _check(env) -> subprocess.CompletedProcess:
    return subprocess.run([processes.ONCALL, "check"], env=env, capture_output=True, text=True, timeout=60)


def _lines(output: str) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in output.splitlines() if len(line.split()) > 2}


@pytest.mark.slow
def test_oncall_check_with_a_good_and_a_bad_configuration(tmp_path):
    url = f"sqlite:///{tmp_path / 'oncall.db'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    with app.app_context():
        schema.upgrade()
    get_engine(app).dispose()
    env = processes.env_for(url, tmp_path / "pages.jsonl")
    env.pop("ONCALL_NOTIFIER")
    env |= {"ONCALL_ENV": "production", "ONCALL_SECRET_KEY": GOOD["SECRET_KEY"], "ONCALL_METRICS_TOKEN": "m",
            "ONCALL_INSTANCE_PATH": str(tmp_path)}
    env |= {k: GOOD[k] for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")}

    good = _check(env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines()[-1] == "ready"
    assert _lines(good.stdout) == {"ONCALL_ENV": "ok", "ONCALL_SECRET_KEY": "ok", "ONCALL_DATABASE_URL": "ok",
                                        "ONCALL_PUBLIC_URL": "ok", "TWILIO_ACCOUNT_SID": "ok", "TWILIO_AUTH_TOKEN": "ok",
                                        "TWILIO_FROM_NUMBER": "ok", "database": "ok", "migrations": "ok"}

    bad = _check(env | {"ONCALL_SECRET_KEY": "dev-only-change-me", "ONCALL_PUBLIC_URL": "http://oncall.example.com",
                        "TWILIO_AUTH_TOKEN": "x", "ONCALL_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert bad.returncode == 1
    states = _lines(bad.stdout)
    assert states["ONCALL_SECRET_KEY"] == states["ONCALL_PUBLIC_URL"] == states["TWILIO_AUTH_TOKEN"] == "BAD"
    assert states["startup"] == "BAD"  # what create_app refuses, in its own words
    assert states["migrations"] == "MISSING" and "run `oncall db upgrade`" in bad.stdout
    assert bad.stdout.splitlines()[-1].endswith("problem(s)") and "Traceback" not in bad.stderr
