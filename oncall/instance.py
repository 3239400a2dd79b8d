"""The secret key a process runs with, and the files the quick start keeps in its instance folder (its own
random secret key, the demo API token): created once with mode 0600, then read by every process."""
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

# The value earlier versions used when none was set. It is public, so whoever knows it can sign a session
# cookie as anyone: production refuses it, like any key too short to resist guessing.
DEV_SECRET_KEY = "dev-only-change-me"
MIN_PRODUCTION_KEY_LENGTH = 32
ENVIRONMENTS = ("development", "production")
SECRET_KEY_FILE = "secret_key"
HOW_TO_MAKE_A_KEY = "e.g. ONCALL_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"


class ConfigurationError(RuntimeError):
    """The service must not start as configured; the message names the setting to change."""


def secret_key(*, configured: str | None, environment: str | None, instance_path: str, quick_start: bool) -> str:
    """The key that signs web sessions. `configured` is ONCALL_SECRET_KEY (or a test's SECRET_KEY). Without
    one, only the quick start (the SQLite database in the instance folder) runs, with a random key of its own
    kept in that folder, so that every process of the instance (web, worker, CLI) signs alike."""
    environment = environment or "development"
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(f"ONCALL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    if environment == "production":
        if not configured:
            raise ConfigurationError(f"ONCALL_ENV=production needs ONCALL_SECRET_KEY set ({HOW_TO_MAKE_A_KEY})")
        if configured == DEV_SECRET_KEY:
            raise ConfigurationError("ONCALL_SECRET_KEY is the development key, which is public; with "
                                     f"ONCALL_ENV=production set a random one ({HOW_TO_MAKE_A_KEY})")
        if len(configured) < MIN_PRODUCTION_KEY_LENGTH:
            raise ConfigurationError(f"ONCALL_SECRET_KEY is shorter than {MIN_PRODUCTION_KEY_LENGTH} characters; "
                                     f"with ONCALL_ENV=production set a random one ({HOW_TO_MAKE_A_KEY})")
        return configured
    if configured:
        if configured == DEV_SECRET_KEY:
            log.warning("ONCALL_SECRET_KEY is the public development key: anyone can forge a sign-in")
        return configured
    if quick_start:
        return read_or_create(Path(instance_path) / SECRET_KEY_FILE, lambda: secrets.token_hex(32),
                              min_length=MIN_PRODUCTION_KEY_LENGTH)
    raise ConfigurationError("ONCALL_SECRET_KEY is not set. Only the quick start (no ONCALL_DATABASE_URL: SQLite "
                             f"in the instance folder) makes a key of its own; set one ({HOW_TO_MAKE_A_KEY})")


def read_or_create(path: Path, make: Callable[[], str], *, min_length: int = 1) -> str:
    """The file's text, or `make()` written to it first. Several processes may start at once (gunicorn's
    workers): each writes a complete file under a name of its own and links it into place, which fails if
    another got there first, so all of them read the same complete value."""
    try:
        return _read_private(path, min_length)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = _write_private(path.with_name(f".{path.name}.{secrets.token_hex(8)}"), make())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return _read_private(path, min_length)


def replace(path: Path, text: str) -> None:
    """Write the file anew (mode 0600), atomically: a reader sees the old text or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(_write_private(path.with_name(f".{path.name}.{secrets.token_hex(8)}"), text), path)


def read_private(path: Path) -> str | None:
    """The file's text (stripped) if it exists, None if not."""
    try:
        return _read_private(path, 0)
    except FileNotFoundError:
        return None


def _write_private(path: Path, text: str) -> Path:
    # Created 0600 from the start (O_EXCL: never through someone else's file), so no other user can read it
    # even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return path


def _read_private(path: Path, min_length: int) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # A copy or an archive restored with a loose umask: the file is a credential, make it ours alone again.
        log.warning("%s was readable by other users; its mode is now 0600", path)
        path.chmod(0o600)
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < min_length:
        raise ConfigurationError(f"{path} holds no usable value; delete it to have a new one made")
    return text


TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


def production_problems(config, *, database_url_set: bool) -> list[str]:
    """What ONCALL_ENV=production refuses besides the secret key (see secret_key): the defaults that make the
    quick start work on a laptop and are unsafe, or silently useless, for a real pager. One sentence each,
    naming the setting. `config` is the app's configuration (ONCALL_* without the prefix, TWILIO_* as is)."""
    problems = []
    if not database_url_set:
        problems.append("ONCALL_DATABASE_URL is not set: production needs a database of its own (PostgreSQL, "
                        "e.g. postgresql+psycopg://oncall:PASSWORD@db:5432/oncall), not the quick start's SQLite file")
    public_url = str(config.get("PUBLIC_URL") or "")
    if not public_url.lower().startswith("https://"):
        problems.append(f"ONCALL_PUBLIC_URL must be the service's https:// address in production (links in pages "
                        f"and feeds, Twilio's signature checks, secure cookies), not {public_url!r}")
    notifier = str(config.get("NOTIFIER") or "").strip()
    if not notifier and not all(config.get(name) for name in TWILIO_SETTINGS):
        missing = ", ".join(name for name in TWILIO_SETTINGS if not config.get(name))
        problems.append(f"{missing} not set: in production pages would only be printed to the console, never sent "
                        "(set them, or ONCALL_NOTIFIER=console to run without paging on purpose)")
    if not config.get("SESSION_COOKIE_SECURE", True):
        problems.append("ONCALL_SESSION_COOKIE_SECURE is off: in production the sign-in cookie must only travel "
                        "over https")
    if config.get("DEBUG"):
        problems.append("ONCALL_DEBUG is on: in production the debugger would let anyone run code on the server")
    return problems
