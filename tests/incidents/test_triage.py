"""Responder ordering of incidents (pure)."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from oncall.incidents.triage import SEVERITY_RANK, is_alarming, triage

T0 = datetime(2026, 3, 4, 3, 0, tzinfo=timezone.utc)


@dataclass
class I:
    id: int
    status: str
    severity: str
    created_at: datetime


def test_unacknowledged_first_then_severity_then_oldest():
    rows = [I(1, "acknowledged", "SEV1", T0), I(2, "triggered", "SEV3", T0), I(3, "triggered", "SEV1", T0),
            I(4, "triggered", "SEV1", T0 - timedelta(hours=1)), I(5, "acknowledged", "SEV2", T0 - timedelta(days=1))]
    assert [i.id for i in triage(rows)] == [4, 3, 2, 1, 5]
    assert [is_alarming(i) for i in rows] == [False, True, True, True, False]


incident = st.builds(I, id=st.integers(1, 10**6), status=st.sampled_from(["triggered", "acknowledged"]),
                     severity=st.sampled_from(list(SEVERITY_RANK)),
                     created_at=st.integers(0, 10**6).map(lambda s: T0 - timedelta(seconds=s)))


# A loaded machine must not fail these for slowness (as in tests/schedules/test_timeline_properties.py).
@settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(incident, max_size=30))
def test_order_invariants(rows):
    ordered = triage(rows)
    assert sorted(map(id, ordered)) == sorted(map(id, rows))  # a permutation
    for a, b in zip(ordered, ordered[1:]):
        if a.status != b.status:
            assert a.status == "triggered"  # nothing acknowledged before anything unacknowledged
        elif a.severity != b.severity:
            assert SEVERITY_RANK[a.severity] < SEVERITY_RANK[b.severity]
        else:
            assert a.created_at <= b.created_at
