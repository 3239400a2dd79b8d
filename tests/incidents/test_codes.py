"""Incident codes (the number people type in SMS replies): random, unique, found in one statement."""
import itertools

from oncall.incidents import service
from tests.incidents.conftest import T0


def test_codes_are_four_digits_unique_and_cost_one_statement(world, app):
    from sqlalchemy import event, select

    from oncall.incidents.models import Incident

    from oncall.db import get_engine

    selects = []
    def counter(_conn, _cursor, sql, *_):
        if "max(incidents.id)" in sql or "WHERE incidents.code" in sql:
            selects.append(sql)

    event.listen(get_engine(app), "before_cursor_execute", counter)
    try:
        codes, lengths = [], []
        for i in range(5):
            # Ten times as many codes as incidents: four digits below a thousand incidents, more above (on
            # PostgreSQL ids keep growing across the suite's rolled-back tests).
            highest = world.session.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1)) or 0
            lengths.append(max(4, len(str(highest * 10))))
            codes.append(world.open("SEV3", title=f"Disk {i}").code)
    finally:
        event.remove(get_engine(app), "before_cursor_execute", counter)
    assert len(set(codes)) == 5 and [len(str(c)) for c in codes] == lengths, (codes, lengths)
    assert len(selects) == 5  # one look-up per incident, the highest id and the taken codes together


def test_taken_candidates_are_skipped_and_a_full_length_moves_to_the_next(world, monkeypatch):
    first = world.open("SEV3", title="First")
    # The random draws: every four-digit candidate is the code already taken, the five-digit ones are new.
    draws = itertools.chain([first.code - 1000] * service.CODE_CANDIDATES, itertools.count(4321))
    monkeypatch.setattr(service.secrets, "randbelow", lambda _n: next(draws))
    second = world.open("SEV3", title="Second", at=T0)
    assert second.code == 10000 + 4321
