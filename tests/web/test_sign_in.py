"""Sign-in, sessions, the failure throttle, CSRF and the set-password command."""
from datetime import timedelta

from sqlalchemy import func, select

from oncall import create_app
from oncall.clock import utcnow
from oncall.web.models import LoginFailure
from oncall.web.signin import MAX_FAILURES
from tests.web.conftest import PASSWORD, csrf_from


def test_pages_need_sign_in(client):
    for path in ("/", "/time-off", "/incidents", "/rotations/1", "/rotations/1/handoff", "/teams/1/watch-items"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/sign-in?next="), path


def test_sign_in_and_out(client, make_person):
    person = make_person("Sam Signin")
    page = client.get("/sign-in?next=/time-off")
    assert page.status_code == 200 and 'name="next" value="/time-off"' in page.get_data(as_text=True)
    response = client.post("/sign-in", data={"email": person.email.upper(), "password": PASSWORD, "next": "/time-off",
                                             "csrf_token": csrf_from(page)})
    assert response.status_code == 303 and response.headers["Location"] == "/time-off"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie  # PUBLIC_URL is https here
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and "Sign out Sam Signin" in dashboard.get_data(as_text=True)
    out = client.post("/sign-out", data={"csrf_token": csrf_from(dashboard)})
    assert out.status_code == 303
    assert client.get("/").status_code == 302


def test_wrong_password_unknown_email_and_no_password_look_the_same(client, make_person):
    person = make_person()
    nopass = make_person(password=None)
    for email, password in ((person.email, "wrong password"), ("nobody@example.com", PASSWORD), (nopass.email, "")):
        page = client.get("/sign-in")
        response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": csrf_from(page)})
        assert response.status_code == 401
        assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_in_without_csrf_token_is_refused(client, make_person):
    person = make_person()
    response = client.post("/sign-in", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    bad = client.post("/sign-in", data={"email": person.email, "password": PASSWORD, "csrf_token": "forged"})
    assert bad.status_code == 400


def _attempt(client, email, password, ip="10.0.0.1"):
    page = client.get("/sign-in", environ_base={"REMOTE_ADDR": ip})
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": csrf_from(page)},
                       environ_base={"REMOTE_ADDR": ip})


def test_throttle_after_five_failures_per_email_and_address(app, client, make_person, session):
    person = make_person()
    for _ in range(MAX_FAILURES):
        assert _attempt(client, person.email, "nope").status_code == 401
    blocked = _attempt(client, person.email, PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    # another address, or another email from this address, is not held back
    assert _attempt(app.test_client(), person.email, PASSWORD, ip="10.0.0.2").status_code == 303
    other = make_person()
    assert _attempt(app.test_client(), other.email, PASSWORD).status_code == 303
    # once the failures are older than the window, the right password works again and clears them
    session.execute(LoginFailure.__table__.update().values(at=utcnow() - timedelta(minutes=16)))
    session.commit()
    assert _attempt(client, person.email, PASSWORD).status_code == 303
    count = session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.email == person.email))
    assert count == 0


def test_open_redirects_are_refused(client, make_person):
    person = make_person()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        page = client.get("/sign-in")
        response = client.post("/sign-in", data={"email": person.email, "password": PASSWORD, "next": target,
                                                 "csrf_token": csrf_from(page)})
        assert response.headers["Location"] == "/", target
        client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/"))})


def test_new_password_ends_other_sessions(browser, make_person, session):
    person = make_person()
    b = browser(person)
    assert b.get("/").status_code == 200
    from werkzeug.security import generate_password_hash

    person.password_hash = generate_password_hash("another password!", method="pbkdf2:sha256:1000")
    session.commit()
    assert b.get("/").status_code == 302


def test_html_pages_carry_security_headers(client):
    response = client.get("/sign-in")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_follows_public_url(monkeypatch, tmp_path):
    monkeypatch.delenv("ONCALL_SESSION_COOKIE_SECURE", raising=False)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "PUBLIC_URL": "http://127.0.0.1:5000"}).config["SESSION_COOKIE_SECURE"] is False
    assert create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "PUBLIC_URL": "https://oncall.example.com"}).config["SESSION_COOKIE_SECURE"] is True


def test_set_password_command(app, make_person, session):
    person = make_person(password=None)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "set-password", "--email", person.email, "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    session.refresh(person)
    assert person.password_hash.startswith("scrypt:")
    short = runner.invoke(args=["user", "set-password", "--email", person.email, "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 10" in short.output
    unknown = runner.invoke(args=["user", "set-password", "--email", "nobody@example.com", "--password-stdin"],
                            input="a long enough password\n")
    assert unknown.exit_code != 0 and "no user" in unknown.output


def test_signing_out_ends_a_copied_session_cookie_too(app, client, make_person):
    person = make_person("Copy Cat")
    page = client.get("/sign-in")
    client.post("/sign-in", data={"email": person.email, "password": PASSWORD, "csrf_token": csrf_from(page)})
    stolen = client.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", stolen, domain="localhost")
    assert other.get("/").status_code == 200  # the copy works while the session lives
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/"))})
    assert other.get("/").status_code == 302  # and not after its owner signed out
