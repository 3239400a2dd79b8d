"""Jinja filters and globals: times in the reader's zone, ages, the signed-in user and permissions."""
from datetime import datetime

from flask import Flask

from oncall.clock import utcnow
from oncall.handoffs import markdown
from oncall.web import permissions, shiftview, timefmt
from oncall.web.session import signed_in_user


def _zone() -> str:
    user = signed_in_user()
    return user.time_zone if user is not None and user.time_zone else "UTC"


def init_app(app: Flask) -> None:
    @app.template_filter("local")
    def local(at: datetime | None, with_zone: bool = True, seconds: bool = False) -> str:
        return timefmt.local(at, _zone(), with_zone=with_zone, seconds=seconds)

    @app.template_filter("clock")
    def clock(at: datetime | None, zone: str | None = None) -> str:
        """'09:00' in `zone` (default the reader's)."""
        return "" if at is None else timefmt.local_input(at, zone or _zone())[-5:]

    @app.template_filter("local_input")
    def local_input(at: datetime | None) -> str:
        return "" if at is None else timefmt.local_input(at, _zone())

    @app.template_filter("age")
    def age(at: datetime | None, now: datetime | None = None) -> str:
        return "" if at is None else timefmt.format_age((now or utcnow()) - at)

    @app.template_filter("until")
    def until(at: datetime | None, now: datetime | None = None) -> str:
        return "" if at is None else timefmt.until(at, now or utcnow())

    @app.template_filter("duration")
    def duration(seconds: float | None) -> str:
        return timefmt.duration(seconds)

    @app.template_filter("parse_instant")
    def parse_instant(value) -> datetime | None:
        return None if value is None else markdown.parse_instant(value)

    @app.template_filter("explain")
    def explain(shift, names: dict, reasons: dict | None = None) -> str:
        return "" if shift is None else shiftview.explain(shift, names, reasons)

    def page_names(names: dict, user_id: int | None) -> str:
        return "nobody" if user_id is None else names.get(user_id, f"user {user_id}")

    @app.context_processor
    def _globals():
        return {"me": signed_in_user(), "is_member": permissions.is_member, "is_team_admin": permissions.is_team_admin,
                "reader_zone": _zone(), "page_names": page_names}
