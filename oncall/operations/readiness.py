"""`oncall check`: what a deployment has set and what it lacks, one line per setting, before it pages anyone.
`settings` is pure (a configuration mapping in, findings out); `database` connects."""
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from oncall import instance
from oncall.fields import E164

OK, MISSING, BAD, NOTE = "ok", "MISSING", "BAD", "note"
# Twilio's formats: an account SID is AC and 32 hex digits, an auth token 32 hex digits.
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class Finding:
    state: str  # OK, MISSING or BAD (the deployment is not ready), NOTE (fine, worth knowing)
    name: str  # the setting or the thing checked
    detail: str

    @property
    def problem(self) -> bool:
        return self.state in (MISSING, BAD)


def settings(config: Mapping) -> list[Finding]:
    """The configuration alone, as set (DATABASE_URL unset: the quick start). In production what create_app would
    refuse is MISSING or BAD; in development the same facts are notes."""
    database_url_set = bool(config.get("DATABASE_URL"))
    production = config.get("ENV") == "production"
    serious = (lambda state: state) if production else (lambda _state: NOTE)
    found = [Finding(OK if config.get("ENV") in instance.ENVIRONMENTS else BAD, "ONCALL_ENV",
                     str(config.get("ENV") or "development")
                     + ("" if production else ": production's refusals below are only notes"))]

    key = config.get("SECRET_KEY")
    if not key:
        found.append(Finding(MISSING if (production or database_url_set) else NOTE, "ONCALL_SECRET_KEY",
                             "not set" + ("" if database_url_set else ": the quick start keeps a random one in "
                                          "its instance folder")))
    elif key == instance.DEV_SECRET_KEY:
        found.append(Finding(BAD, "ONCALL_SECRET_KEY", "the public development key"))
    elif len(key) < instance.MIN_PRODUCTION_KEY_LENGTH:
        found.append(Finding(serious(BAD), "ONCALL_SECRET_KEY",
                             f"{len(key)} characters, shorter than {instance.MIN_PRODUCTION_KEY_LENGTH}"))
    else:
        found.append(Finding(OK, "ONCALL_SECRET_KEY", f"set ({len(key)} characters, not shown)"))

    if database_url_set:
        found.append(Finding(OK, "ONCALL_DATABASE_URL", _safe_url(str(config["DATABASE_URL"]))))
    else:
        found.append(Finding(serious(MISSING), "ONCALL_DATABASE_URL", "not set: SQLite in the instance folder "
                                                                      "(the quick start)"))

    public_url = str(config.get("PUBLIC_URL") or "")
    if public_url.lower().startswith("https://"):
        found.append(Finding(OK, "ONCALL_PUBLIC_URL", public_url))
    else:
        found.append(Finding(serious(BAD), "ONCALL_PUBLIC_URL", f"{public_url or 'not set'}: not https"))

    found += _twilio(config, serious)
    if not config.get("METRICS_TOKEN"):
        found.append(Finding(NOTE, "ONCALL_METRICS_TOKEN", "not set: GET /metrics answers anyone who can reach it"))
    return found


def _twilio(config: Mapping, serious) -> list[Finding]:
    values = {name: str(config.get(name) or "").strip() for name in instance.TWILIO_SETTINGS}
    notifier = str(config.get("NOTIFIER") or "").strip()
    if not any(values.values()):
        if notifier:
            return [Finding(NOTE, "TWILIO_*", f"not set: pages go to ONCALL_NOTIFIER={notifier}")]
        return [Finding(serious(MISSING), "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER",
                        "not set: pages go to the console, never to a phone")]
    found = []
    sid, token, number = values.values()
    found.append(Finding(OK, "TWILIO_ACCOUNT_SID", f"{sid[:6]}… (valid form)") if ACCOUNT_SID.match(sid) else
                 Finding(BAD if sid else MISSING, "TWILIO_ACCOUNT_SID",
                         "not AC followed by 32 hexadecimal digits" if sid else "not set"))
    found.append(Finding(OK, "TWILIO_AUTH_TOKEN", "set (valid form, not shown)") if AUTH_TOKEN.match(token) else
                 Finding(BAD if token else MISSING, "TWILIO_AUTH_TOKEN",
                         "not 32 hexadecimal digits" if token else "not set"))
    found.append(Finding(OK, "TWILIO_FROM_NUMBER", number) if E164.match(number) else
                 Finding(BAD if number else MISSING, "TWILIO_FROM_NUMBER",
                         f"{number!r} is not E.164 (e.g. +14155550101)" if number else "not set"))
    if config.get("TWILIO_BASE_URL"):
        found.append(Finding(serious(BAD), "ONCALL_TWILIO_BASE_URL",
                             f"{config['TWILIO_BASE_URL']}: pages go to this server, not to Twilio"))
    return found


def database(engine) -> list[Finding]:
    """Whether the database answers, and whether its schema is the one this code expects."""
    from sqlalchemy import text

    from oncall import schema

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = schema.database_revision(connection)
    except Exception as exc:  # any failure to connect is the finding itself
        return [Finding(BAD, "database", f"unreachable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")]
    found = [Finding(OK, "database", f"reachable ({engine.dialect.name})")]
    head = schema.code_head()
    if revision == head:
        found.append(Finding(OK, "migrations", f"at head ({head})"))
    elif revision is None:
        found.append(Finding(MISSING, "migrations", f"no schema yet (head is {head}): run `oncall db upgrade`"))
    else:
        found.append(Finding(BAD, "migrations", f"at {revision}, this code expects {head}: run `oncall db upgrade`"))
    return found


def render(findings: list[Finding]) -> str:
    width = max(len(f.name) for f in findings)
    return "\n".join(f"{f.state:<7}  {f.name:<{width}}  {f.detail}" for f in findings)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: create_app fails on it too, with its own message
        return "(unparsable URL)"
