"""The secret key: the quick start makes its own per instance (kept 0600 in the instance folder), anything
else needs ONCALL_SECRET_KEY, and ONCALL_ENV=production refuses the development key and weak keys."""
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from oncall import create_app
from oncall.instance import DEV_SECRET_KEY, ConfigurationError, read_or_create, secret_key

ONCALL = str(Path(sys.executable).parent / "oncall")
STRONG = "k" * 40


def _key(tmp_path, *, configured=None, environment=None, quick_start=True) -> str:
    return secret_key(configured=configured, environment=environment, instance_path=str(tmp_path),
                      quick_start=quick_start)


def test_the_quick_start_makes_a_random_key_per_instance_readable_only_by_its_owner(tmp_path):
    first = _key(tmp_path / "a")
    assert len(first) == 64 and int(first, 16)
    assert _key(tmp_path / "a") == first  # every process of the instance reads the same key
    assert stat.S_IMODE((tmp_path / "a" / "secret_key").stat().st_mode) == 0o600
    assert _key(tmp_path / "b") != first
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["secret_key"]  # no draft left behind


def test_a_key_file_others_can_read_is_made_private_again(tmp_path):
    key = _key(tmp_path)
    (tmp_path / "secret_key").chmod(0o644)
    assert _key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_an_empty_key_file_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ConfigurationError, match="secret_key"):
        _key(tmp_path)


def test_processes_starting_together_agree_on_one_key(tmp_path):
    keys, start = [], threading.Barrier(16)

    def read():
        start.wait()
        keys.append(read_or_create(tmp_path / "secret_key", lambda: os.urandom(16).hex()))

    threads = [threading.Thread(target=read) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 16 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_outside_the_quick_start_a_key_is_required(tmp_path):
    with pytest.raises(ConfigurationError, match="ONCALL_SECRET_KEY is not set"):
        _key(tmp_path, quick_start=False)
    assert not (tmp_path / "secret_key").exists()
    assert _key(tmp_path, configured="mine", quick_start=False) == "mine"


@pytest.mark.parametrize(("configured", "message"), [
    (None, "ONCALL_ENV=production needs ONCALL_SECRET_KEY"),
    (DEV_SECRET_KEY, "ONCALL_SECRET_KEY is the development key"),
    ("short", "ONCALL_SECRET_KEY is shorter than 32"),
])
@pytest.mark.parametrize("quick_start", [True, False])
def test_production_refuses_the_development_key(tmp_path, configured, message, quick_start):
    with pytest.raises(ConfigurationError, match=message):
        _key(tmp_path, configured=configured, environment="production", quick_start=quick_start)
    assert not (tmp_path / "secret_key").exists()  # production never falls back to a generated key
    assert _key(tmp_path, configured=STRONG, environment="production", quick_start=quick_start) == STRONG


def test_an_unknown_environment_is_refused_rather_than_read_as_development(tmp_path):
    with pytest.raises(ConfigurationError, match="ONCALL_ENV must be one of"):
        _key(tmp_path, configured=STRONG, environment="prod")


def test_create_app_takes_the_instance_key_only_for_the_quick_start(tmp_path, monkeypatch):
    for name in ("ONCALL_SECRET_KEY", "ONCALL_DATABASE_URL", "ONCALL_ENV", "ONCALL_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'oncall.db'}"
    with pytest.raises(ConfigurationError, match="ONCALL_SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"})
    monkeypatch.setenv("ONCALL_ENV", "production")
    with pytest.raises(ConfigurationError, match="ONCALL_SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("ONCALL_SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigurationError, match="development key"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("ONCALL_SECRET_KEY", STRONG)
    assert create_app({"INSTANCE_PATH": str(tmp_path), **PRODUCTION}).config["SECRET_KEY"] == STRONG


# Everything production needs besides the key (test_production_refuses_each_unsafe_default takes them away).
PRODUCTION = {"DATABASE_URL": "sqlite:///:memory:", "PUBLIC_URL": "https://oncall.example.com",
              "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "f" * 32, "TWILIO_FROM_NUMBER": "+14155550100"}


@pytest.mark.parametrize(("change", "named"), [
    ({"DATABASE_URL": None}, "ONCALL_DATABASE_URL is not set"),
    ({"PUBLIC_URL": "http://oncall.example.com"}, "ONCALL_PUBLIC_URL must be the service's https:// address"),
    ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN not set"),
    ({"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "TWILIO_FROM_NUMBER": None},
     "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER not set"),
    ({"SESSION_COOKIE_SECURE": False}, "ONCALL_SESSION_COOKIE_SECURE is off"),
    ({"DEBUG": True}, "ONCALL_DEBUG is on"),
])
def test_production_refuses_each_unsafe_default_naming_the_setting(tmp_path, monkeypatch, change, named):
    for name in ("ONCALL_DATABASE_URL", "ONCALL_PUBLIC_URL", "ONCALL_NOTIFIER", "ONCALL_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = {"INSTANCE_PATH": str(tmp_path), "ENV": "production", "SECRET_KEY": STRONG, **PRODUCTION, **change}
    with pytest.raises(ConfigurationError, match=named) as refused:
        create_app(settings)
    assert str(refused.value).count("; ") == 0  # this one problem, not the others
    assert create_app({**settings, **PRODUCTION, "SESSION_COOKIE_SECURE": True, "DEBUG": False})


def test_production_may_run_without_twilio_only_when_told_to(tmp_path):
    settings = {"INSTANCE_PATH": str(tmp_path), "ENV": "production", "SECRET_KEY": STRONG, **PRODUCTION,
                "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "TWILIO_FROM_NUMBER": None}
    with pytest.raises(ConfigurationError, match="ONCALL_NOTIFIER=console"):
        create_app(settings)
    assert create_app({**settings, "NOTIFIER": "console"})


def _clean_env(**settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "TWILIO_"))}
    return env | settings


@pytest.mark.parametrize("command", [["db", "upgrade"], ["worker", "--once"], ["token", "create", "--email", "a@example.com"]])
def test_commands_outside_the_quick_start_refuse_to_start_without_a_key(tmp_path, command):
    env = _clean_env(ONCALL_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", ONCALL_INSTANCE_PATH=str(tmp_path))
    done = subprocess.run([ONCALL, *command], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ONCALL_SECRET_KEY is not set" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_wsgi_refuses_the_development_key_in_production(tmp_path):
    env = _clean_env(ONCALL_ENV="production", ONCALL_SECRET_KEY=DEV_SECRET_KEY, ONCALL_INSTANCE_PATH=str(tmp_path),
                     ONCALL_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "ONCALL_SECRET_KEY is the development key" in done.stderr
    env |= {"ONCALL_SECRET_KEY": STRONG, "ONCALL_PUBLIC_URL": "https://oncall.example.com", "ONCALL_NOTIFIER": "console"}
    migrated = subprocess.run([ONCALL, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    ok = subprocess.run([sys.executable, "-c", "import wsgi; print(len(wsgi.app.config['SECRET_KEY']))"], cwd=root,
                        env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip() == "40", ok.stderr
