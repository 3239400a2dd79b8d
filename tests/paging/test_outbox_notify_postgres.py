"""PostgreSQL: a committed outbox row wakes the dispatchers through LISTEN/NOTIFY (migration 0019 and
worker.listen_for_pages), a rolled-back one does not."""
import threading

import pytest
from sqlalchemy.orm import Session

from oncall.clock import utcnow
from oncall.db import get_engine
from oncall.paging.models import Notification
from oncall.people import service as people
from oncall.people.models import User
from oncall.worker import listen_for_pages

pytestmark = pytest.mark.postgres


def test_a_committed_outbox_row_wakes_the_listener_and_a_rolled_back_one_does_not(app):
    engine = get_engine(app)
    with Session(engine) as s, s.begin():
        user_id = people.create_user(s, name="Listen", email="listen@example.com", phone="+14155550977",
                                     time_zone="UTC").id
    woken, stop = threading.Event(), threading.Event()
    thread = listen_for_pages(engine, woken.set, stop=stop)
    try:
        assert woken.wait(5)  # once when it starts listening: rows may have come before
        woken.clear()

        def write(commit: bool) -> None:
            with Session(engine) as s:
                s.add(Notification(incident_id=None, step=0, round=0, user_id=user_id, channel="sms",
                                   state="pending", next_attempt_at=utcnow(), created_at=utcnow(), body="hello"))
                s.commit() if commit else s.rollback()

        write(commit=False)
        assert not woken.wait(1.5)
        write(commit=True)
        assert woken.wait(5)
    finally:
        stop.set()
        thread.join(5)
        with Session(engine) as s, s.begin():
            s.delete(s.get(User, user_id))
    assert not thread.is_alive()


def test_nothing_listens_on_sqlite(tmp_path):
    from oncall.db import make_engine

    assert listen_for_pages(make_engine(f"sqlite:///{tmp_path / 'x.db'}"), lambda: None) is None
