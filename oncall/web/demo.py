"""Demo data for the web interface: passwords, incidents, watch items and a submitted handoff, so every
page shows something real on first start. Called from oncall/demo.py."""
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from oncall.handoffs import service as handoffs
from oncall.handoffs.models import ACKNOWLEDGED, Handoff, WatchItem
from oncall.incidents import service as incidents
from oncall.people.models import Team, User
from oncall.schedules import timeline
from oncall.schedules import service as schedules
from oncall.schedules.models import Rotation
from oncall.web.signin import hash_password

# Demo data only: every demo person signs in with this. `oncall user set-password` changes it.
DEMO_PASSWORD = "demo-password"


def _public_url() -> str:
    from flask import current_app, has_app_context

    from oncall.config import Config

    return current_app.config["PUBLIC_URL"] if has_app_context() else Config.PUBLIC_URL


def load_web_demo(session: Session, *, now: datetime, users: list[User], payments: Team, platform: Team,
                  handoff_rotation: Rotation) -> None:
    alice, bob, carol, dave, erin, frank = users
    password_hash = hash_password(DEMO_PASSWORD)  # one scrypt run: the same password for everyone
    for user in users:
        user.password_hash = password_hash

    # The last shift change of the daily rotation got a handoff, written and acknowledged.
    schedule = schedules.load_schedules(session, [handoff_rotation], now - timedelta(days=2), now)[handoff_rotation.id]
    last_change = timeline.handoffs_between(schedule, now - timedelta(days=2), now)[-1]
    hour = timedelta(hours=1)

    resolved, _ = incidents.create_incident(
        session, team_id=payments.id, severity="SEV2", title="Card processor timeouts", now=last_change - 6 * hour,
        description="Timeouts from the card processor's EU endpoint.",
        links={"runbook": "https://runbooks.example.com/payments/processor"})
    incidents.acknowledge(session, resolved, user_id=carol.id, via="sms", now=last_change - 6 * hour + timedelta(minutes=4))
    incidents.resolve(session, resolved, user_id=carol.id, via="web", now=last_change - 3 * hour)
    checkout, _ = incidents.create_incident(
        session, team_id=payments.id, severity="SEV2", title="Checkout errors at 5%", now=last_change - 2 * hour,
        description="5xx from checkout-api after the 14:00 deploy.", dedup_key="checkout-errors",
        links={"dashboard": "https://grafana.example.com/d/checkout", "chat": "#incidents-payments"})
    on_call = timeline.on_call_at(schedule, last_change - hour).user_id
    incidents.acknowledge(session, checkout, user_id=on_call, via="sms", now=last_change - 2 * hour + timedelta(minutes=6))

    session.add_all([
        WatchItem(team_id=payments.id, text="New checkout deployment scheduled for tomorrow",
                  due_on=(now + timedelta(days=1)).date(), added_by_id=alice.id, created_at=now - 5 * hour),
        WatchItem(team_id=payments.id, text="TLS certificate for pay.example.com renews on Friday",
                  due_on=(now + timedelta(days=4)).date(), added_by_id=bob.id, created_at=now - timedelta(days=3)),
        WatchItem(team_id=payments.id, text="Database failover drill", added_by_id=carol.id,
                  created_at=now - timedelta(days=5), closed_by_id=carol.id, closed_at=last_change - 4 * hour),
        WatchItem(team_id=platform.id, text="Kernel upgrades on the build fleet this week", added_by_id=dave.id,
                  created_at=now - timedelta(days=1)),
    ])
    session.flush()

    draft = handoffs.build_draft(session, handoff_rotation, last_change, now=last_change - timedelta(minutes=10),
                                 public_url=_public_url())
    handoff = Handoff(
        rotation_id=handoff_rotation.id, team_id=payments.id, shift_change_at=last_change,
        outgoing_user_id=draft.outgoing_user_id, incoming_user_id=draft.incoming_user_id, state=ACKNOWLEDGED,
        notes="Checkout errors started after the 14:00 deploy; rollback is ready if they climb.",
        sections=draft.sections, since_at=draft.since, created_at=last_change - timedelta(minutes=25),
        updated_at=last_change + timedelta(minutes=7), submitted_by_id=draft.outgoing_user_id,
        submitted_at=last_change - timedelta(minutes=10), acknowledged_by_id=draft.incoming_user_id,
        acknowledged_at=last_change + timedelta(minutes=7), incidents_passed_at=last_change + timedelta(minutes=7))
    session.add(handoff)
    session.flush()
    handoffs.transfer_incidents(session, handoff=handoff, now=handoff.acknowledged_at)
    # After the handoff, more happened: the next draft has something new to say.
    incidents.create_incident(session, team_id=payments.id, severity="SEV3", title="Search latency p99 above 2s",
                              now=now - timedelta(minutes=40))
    incidents.create_incident(session, team_id=platform.id, severity="SEV4", title="Stale metrics on the cache dashboard",
                              now=now - 3 * hour)
    session.flush()


def sign_in_lines(base_url: str) -> list[str]:
    """What `oncall run --demo` prints about the web: where to sign in as a site admin and as a plain member."""
    return [f"Web: {base_url}/ (every demo person's password is {DEMO_PASSWORD})",
            f"  site admin: alice@example.com (every team and person; Teams to create one, {base_url}/teams)",
            "  plain member: bob@example.com (Payments: sees its pages, cannot change its setup)"]
