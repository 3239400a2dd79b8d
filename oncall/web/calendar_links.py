"""The calendar links page: a person's feeds (personal, team, rotation) with when each was made and last
fetched, each revocable, through feeds/subscriptions.py (the API's /calendar-feeds lists and revokes the same)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from oncall.db import get_session
from oncall.feeds import service as feeds, subscriptions
from oncall.web.session import login_required, web_user
from oncall.web.views import bp


@bp.get("/calendar-links")
@login_required
def calendar_links():
    return render_template("people/calendar_links.html",
                           links=subscriptions.list_links(get_session(), user_id=web_user().id))


@bp.post("/calendar-links/<int:feed_id>/revoke")
@login_required
def revoke_calendar_link(feed_id: int):
    session = get_session()
    feed = subscriptions.get_own_link(session, feed_id, owner_id=web_user().id)
    label = subscriptions.label_of(session, feed)
    feeds.delete_feed(session, feed)
    session.commit()
    flash(f"Revoked the calendar link for {label}: calendars using it stop updating.")
    return redirect(url_for("web.calendar_links"), 303)
