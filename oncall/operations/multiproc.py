"""Where the web processes of one server share their Prometheus metrics (prometheus_client's multiprocess mode).

prometheus_client picks its mode once, when it is first imported, from PROMETHEUS_MULTIPROC_DIR; so this
runs before that import. The directory must be shared by every process of one server and fresh for each
server start (files of a previous run would add old counts):
- PROMETHEUS_MULTIPROC_DIR set: that directory (the operator empties it at start, as the library says);
- under gunicorn, without it: a directory named after gunicorn's master process, which all its workers
  share and which the next master does not reuse; directories of masters no longer alive are removed;
- otherwise (`oncall run`, one process, threads): no directory, the process keeps its metrics in memory.
"""
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
AUTO_ROOT = Path(tempfile.gettempdir()) / "oncall-prometheus"


def prepare(environ=os.environ) -> str | None:
    directory = environ.get(ENV) or environ.get(ENV.lower())
    if not directory and environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        directory = str(_gunicorn_directory())
        environ[ENV] = directory
    if not directory:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    values = sys.modules.get("prometheus_client.values")
    if values is not None and values.ValueClass is values.MutexValue:
        # Imported earlier in single-process mode (by something else in this process): its metrics live in
        # memory, so reading the directory would miss them.
        log.warning("prometheus_client was imported before %s was set; /metrics covers this process only", ENV)
        return None
    return directory


def _gunicorn_directory() -> Path:
    master = _gunicorn_master()
    AUTO_ROOT.mkdir(mode=0o700, exist_ok=True)
    for old in AUTO_ROOT.glob("master-*"):
        pid = old.name.removeprefix("master-")
        if pid.isdigit() and int(pid) != master and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return AUTO_ROOT / f"master-{master}"


def _gunicorn_master() -> int:
    """The arbiter's pid: our parent when gunicorn loads the app in each worker (the default), ourselves when
    it loads the app in the master before forking (--preload)."""
    parent = os.getppid()
    try:
        if b"gunicorn" in Path(f"/proc/{parent}/cmdline").read_bytes():
            return parent
    except OSError:
        return parent  # no /proc: assume the default, app loaded in each worker
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
