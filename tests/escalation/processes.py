"""Helpers for tests that run `oncall` as real processes against a database they commit to."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from oncall.clock import utcnow
from oncall.db import make_engine
from oncall.escalation import service as escalation
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident
from oncall.people import service as people
from oncall.people.models import Team, User

ONCALL = str(Path(sys.executable).parent / "oncall")


def env_for(database_url: str, pages: Path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "TWILIO_"))}
    env |= {"ONCALL_DATABASE_URL": database_url, "ONCALL_NOTIFIER": f"file:{pages}",
            "ONCALL_PUBLIC_URL": "https://oncall.example.com", "ONCALL_SECRET_KEY": "test"}
    env |= {f"ONCALL_{k}": str(v) for k, v in settings.items()}
    return env


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:  # the child keeps its own descriptor
        return subprocess.Popen([ONCALL, *args], env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 10) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=timeout)


def wait_for(condition, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_pages(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Fixture:
    """Teams, people and policies committed to a real database, deleted again by cleanup()."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.team_ids: list[int] = []
        self.user_ids: list[int] = []

    def team(self, *, members: int, policy: list[dict], slug: str, severity: str = "SEV2") -> int:
        with self.sessions.begin() as session:
            users = [people.create_user(session, name=f"{slug} {i}", email=f"{slug}-{i}@procs.example.com",
                                        phone=f"+1555{len(self.user_ids) + i:07d}", time_zone="UTC")
                     for i in range(members)]
            team = people.create_team(session, name=slug, slug=slug, time_zone="UTC")
            people.set_members(session, team, user_ids=[u.id for u in users], admin_ids=[])
            escalation.set_policy(session, team_id=team.id, severity=severity, data={"steps": policy, "repeat": 0},
                                  user_id=None, now=utcnow())
            self.team_ids.append(team.id)
            self.user_ids += [u.id for u in users]
            return team.id

    def open(self, team_id: int, count: int, *, at, severity: str = "SEV2") -> list[int]:
        ids = []
        with self.sessions.begin() as session:
            for i in range(count):
                incident, _ = incidents.create_incident(session, team_id=team_id, severity=severity,
                                                        title=f"Incident {i}", now=at)
                ids.append(incident.id)
        return ids

    def open_many(self, team_id: int, count: int, *, due_at, severity: str = "SEV2") -> list[int]:
        """Incidents inserted in bulk with step 0 due at `due_at` (None: not scheduled yet), nothing paged."""
        with self.sessions.begin() as session:
            team = session.get(Team, team_id)
            snapshot = escalation.snapshot_for(session, team=team, severity=severity).to_json()
            top = session.scalar(select(func.max(Incident.code))) or 0
            rows = [Incident(code=max(top, 10**6) + i + 1, team_id=team_id, severity=severity, title=f"Incident {i}",
                             status="triggered", source="api", trigger_count=1, last_triggered_at=utcnow(),
                             created_at=utcnow(), policy=snapshot, next_step=0, round=0, next_step_at=due_at)
                    for i in range(count)]
            session.add_all(rows)
            session.flush()
            return [r.id for r in rows]

    def cleanup(self) -> None:
        with self.sessions.begin() as session:
            if self.team_ids:
                session.execute(delete(Team).where(Team.id.in_(self.team_ids)))
            if self.user_ids:
                session.execute(delete(User).where(User.id.in_(self.user_ids)))
        self.engine.dispose()

    def scalar(self, query):
        with self.sessions() as session:
            return session.scalar(query)

    def all(self, query):
        with self.sessions() as session:
            return list(session.execute(query).all())

