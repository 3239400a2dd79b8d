"""From a shift in the calendar: take it, or ask someone to; the asked person answers on the dashboard."""
import html as htmllib
import re
from datetime import timedelta

from sqlalchemy import select

from oncall.paging.models import Notification
from oncall.schedules.models import Override, SwapRequest
from tests.conftest import TEST_NOW
from tests.schedules.test_swaps_api import FRI_09, THU_09, crew  # noqa: F401  (the fixture)
from tests.web.conftest import FAST_HASH, PASSWORD

from werkzeug.security import generate_password_hash


def _sign_in_all(session, crew):
    for user in crew["users"].values():
        user.password_hash = generate_password_hash(PASSWORD, method=FAST_HASH)
    session.commit()


def _shift_links(page: str) -> list[str]:
    return [htmllib.unescape(h) for h in re.findall(r'href="(/rotations/\d+/shift\?[^"]+)"', page)]


def test_take_a_shift_from_the_calendar(crew, session, browser):  # noqa: F811
    _sign_in_all(session, crew)
    u = crew["users"]
    b = browser(u["ben"])
    calendar = b.get(f"/rotations/{crew['rotation']}").get_data(as_text=True)
    thursday = next(link for link in _shift_links(calendar) if "start=2026-03-05T09:00:00" in link)
    shift = b.get(thursday).get_data(as_text=True)
    assert "Ann" in shift and "Take this shift</button>" in shift
    assert "Ask someone to take it" not in shift  # not Ben's shift, and Ben is no admin
    response = b.post(f"/rotations/{crew['rotation']}/take",
                      {"start": THU_09.isoformat(), "end": FRI_09.isoformat()})
    assert response.status_code == 303
    override = session.scalar(select(Override))
    assert (override.user_id, override.start_at, override.end_at) == (u["ben"].id, THU_09, FRI_09)
    # Someone outside the team may look but not take.
    olly = browser(u["olly"])
    assert "Take this shift</button>" not in olly.get(thursday).get_data(as_text=True)
    assert olly.post(f"/rotations/{crew['rotation']}/take",
                     {"start": (THU_09 + timedelta(days=1)).isoformat(),
                      "end": (FRI_09 + timedelta(days=1)).isoformat()}).status_code == 403


def test_ask_then_accept_on_the_dashboard(crew, session, browser):  # noqa: F811
    _sign_in_all(session, crew)
    u = crew["users"]
    ann = browser(u["ann"])
    shift = ann.get(f"/rotations/{crew['rotation']}/shift",
                    query_string={"start": THU_09.isoformat(), "end": FRI_09.isoformat()})
    assert "Ask someone to take it" in shift.get_data(as_text=True)
    response = ann.post(f"/rotations/{crew['rotation']}/swap-requests",
                        {"start": THU_09.isoformat(), "end": FRI_09.isoformat(), "to_user_id": str(u["cat"].id),
                         "reason": "school play"})
    assert response.status_code == 303
    swap = session.scalar(select(SwapRequest))
    assert swap.to_user_id == u["cat"].id and swap.reason == "school play"
    assert "waiting for an answer" in ann.get("/").get_data(as_text=True)
    cat = browser(u["cat"])
    dashboard = cat.get("/").get_data(as_text=True)
    assert "<strong>Ann</strong> asks you to take" in dashboard and "Accept</button>" in dashboard
    assert "Accept</button>" not in browser(u["ben"]).get("/").get_data(as_text=True)  # asked Cat, not Ben
    assert browser(u["ben"]).post(f"/swap-requests/{swap.id}/accept").status_code == 403
    assert cat.post(f"/swap-requests/{swap.id}/accept").status_code == 303
    session.expire_all()
    assert session.get(SwapRequest, swap.id).state == "accepted"
    assert session.scalar(select(Override.user_id)) == u["cat"].id
    assert cat.post(f"/swap-requests/{swap.id}/decline").status_code == 409
    texts = session.scalars(select(Notification.body).where(Notification.user_id == u["ann"].id)).all()
    assert any(t.startswith("Cat accepted") for t in texts)
    # The calendar shows the override.
    assert "swap with Ann" in cat.get(f"/rotations/{crew['rotation']}").get_data(as_text=True)


def test_bad_asks_are_refused_with_a_message(crew, session, browser, clock):  # noqa: F811
    _sign_in_all(session, crew)
    u = crew["users"]
    ben = browser(u["ben"])
    # Thursday is Ann's: Ben may not ask for it.
    assert ben.post(f"/rotations/{crew['rotation']}/swap-requests",
                    {"start": THU_09.isoformat(), "end": FRI_09.isoformat()}).status_code == 403
    refused = browser(u["ann"]).post(f"/rotations/{crew['rotation']}/swap-requests",
                                     {"start": "tomorrow", "end": FRI_09.isoformat()})
    assert refused.status_code == 422 and "Back to the rotation" in refused.get_data(as_text=True)
    assert session.scalar(select(SwapRequest.id)) is None
    assert ben.get(f"/rotations/{crew['rotation']}/shift?start=x&end=y").status_code == 422
    assert ben.get("/rotations/999999/shift?start=2026-03-05T09:00:00Z&end=2026-03-06T09:00:00Z").status_code == 404
    # Past its start, the request cannot be accepted.
    browser(u["ann"]).post(f"/rotations/{crew['rotation']}/swap-requests",
                           {"start": THU_09.isoformat(), "end": FRI_09.isoformat()})
    swap = session.scalar(select(SwapRequest))
    clock.set(THU_09 + timedelta(minutes=1))
    assert ben.post(f"/swap-requests/{swap.id}/accept").status_code == 409
    assert TEST_NOW < THU_09
