"""docs/oncall-alerts.yml: the rules' shape (promtool is not available here), that every metric they name is
one /metrics exposes, and that the two core rules fire exactly when the workers stop or a page is overdue."""
import operator
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from oncall.clock import database_now
from oncall.operations.models import WorkerHeartbeat
from tests.operations.test_metrics import samples

RULES = Path(__file__).resolve().parents[2] / "docs" / "oncall-alerts.yml"
KEYWORDS = {"or", "and", "unless", "by", "without", "on", "ignoring", "bool", "offset", "group_left", "group_right"}
COMPARISON = re.compile(r"^\s*([a-z_:][a-z0-9_:]*)\s*(>|<|==|!=|>=|<=)\s*([0-9.]+)\s*$")
OPS = {">": operator.gt, "<": operator.lt, "==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le}


def rules() -> list[dict]:
    doc = yaml.safe_load(RULES.read_text())
    assert set(doc) == {"groups"}
    found = []
    for group in doc["groups"]:
        assert set(group) == {"name", "rules"} and group["rules"]
        found += group["rules"]
    return found


def metric_names(expr: str) -> set[str]:
    """Identifiers that name series: not functions, keywords, label names, strings or ranges."""
    stripped = re.sub(r'"[^"]*"', "", expr)
    stripped = re.sub(r"\{[^}]*\}", "", stripped)
    stripped = re.sub(r"\[[^\]]*\]", "", stripped)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", stripped):
        rest = stripped[match.end():].lstrip()
        if match.group() not in KEYWORDS and not rest.startswith("("):
            names.add(match.group())
    return names


def fires(expr: str, scrape: dict) -> bool:
    """Evaluate `metric op number [or ...]` over one scrape of unlabelled series."""
    result = False
    for part in expr.split(" or "):
        match = COMPARISON.match(part)
        assert match, f"not a simple comparison: {part!r}"
        name, op, number = match.groups()
        value = scrape.get((name, ()))
        result |= value is not None and OPS[op](value, float(number))
    return result


def test_the_rules_are_well_formed():
    names = []
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        assert rule["expr"].count("(") == rule["expr"].count(")")
        assert rule["expr"].count("{") == rule["expr"].count("}")
        assert rule["expr"].count("[") == rule["expr"].count("]")
        assert re.fullmatch(r"\d+[smhd]", rule.get("for", "0s"))
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"]
        names.append(rule["alert"])
    assert len(names) == len(set(names))
    assert {"OncallWorkersStopped", "OncallPagesOverdue"} <= set(names)


def test_every_metric_the_rules_use_is_exposed(client):
    exposed = {name for name, _ in samples(client.get("/metrics").get_data(as_text=True))}
    used = set().union(*(metric_names(rule["expr"]) for rule in rules())) - {"up"}  # `up`: Prometheus' own
    assert used and used <= exposed, used - exposed


def _core(name: str) -> str:
    return next(rule["expr"] for rule in rules() if rule["alert"] == name)


@pytest.mark.parametrize("heartbeat_age,page_age,stopped,overdue", [
    (5, None, False, False),
    (61, None, True, False),     # workers stopped
    (None, None, True, False),   # no worker ever: +Inf
    (5, 61, False, True),        # a page overdue
])
def test_the_core_rules_fire_when_they_should(session, client, heartbeat_age, page_age, stopped, overdue):
    now = database_now(session)
    if heartbeat_age is not None:
        session.add(WorkerHeartbeat(id="w", host="h", pid=1, version="v", started_at=now - timedelta(hours=1),
                                    last_seen_at=now - timedelta(seconds=heartbeat_age)))
    if page_age is not None:
        from tests.operations.test_health import _incident

        incident, _user = _incident(session, step_due_in=-timedelta(seconds=page_age))
    session.commit()
    scrape = samples(client.get("/metrics").get_data(as_text=True))
    assert fires(_core("OncallWorkersStopped"), scrape) is stopped
    assert fires(_core("OncallPagesOverdue"), scrape) is overdue
