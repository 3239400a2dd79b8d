"""Who is signed in to the web interface (a signed session cookie), and the login_required guard."""
from functools import wraps
from urllib.parse import urlsplit

from flask import g, redirect, request, session as cookie, url_for

from oncall.db import get_session
from oncall.people.models import User
from oncall.web.signin import session_fingerprint

USER_KEY, FINGERPRINT_KEY = "uid", "fp"


def signed_in_user() -> User | None:
    if "web_user" not in g:
        user = None
        uid = cookie.get(USER_KEY)
        if isinstance(uid, int):
            user = get_session().get(User, uid)
            if user is not None and (not user.password_hash or cookie.get(FINGERPRINT_KEY) != session_fingerprint(user)):
                user = None
        g.web_user = user
    return g.web_user


def web_user() -> User:
    """The signed-in user of a login_required view."""
    return g.web_user


def sign_in(user: User) -> None:
    # A fresh session on sign-in, so a cookie planted before it (session fixation) is worth nothing.
    cookie.clear()
    cookie[USER_KEY] = user.id
    cookie[FINGERPRINT_KEY] = session_fingerprint(user)
    g.web_user = user


def sign_out() -> None:
    """End this session and, since the cookie itself cannot be recalled, every other one of this user's."""
    user = signed_in_user()
    if user is not None:
        user.session_epoch = (user.session_epoch or 0) + 1
    cookie.clear()
    g.web_user = None


def safe_next(target: str | None) -> str:
    """Only same-site paths: '/x' yes, '//evil.example', 'https://evil.example' or '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("web.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("web.dashboard")
    return target


def login_required(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        if signed_in_user() is None:
            target = request.full_path if request.method == "GET" else request.referrer or request.path
            if urlsplit(target).netloc:
                target = urlsplit(target).path
            return redirect(url_for("web.sign_in", next=target.rstrip("?")))
        return view(*args, **kwargs)

    return guarded
