"""At most FEED_BUILD_SLOTS calendar feeds built at once on this machine, whatever the number of processes.

A build is CPU work of up to about half a second (1,000 events); a 304 or a cached feed is not. gunicorn's
sync workers each serve one request at a time, so two builds at once on a two-core machine would leave
nothing for who-is-on-call and the pages. A slot is an exclusive lock on a file in the instance folder
(flock: released by the kernel if the process dies); a request that finds none free within
FEED_BUILD_WAIT_SECONDS is answered 503 with Retry-After, which calendar clients treat as "try again later".
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.exceptions import ServiceUnavailable

POLL_SECONDS = 0.02
RETRY_AFTER_SECONDS = 10


class NoSlot(ServiceUnavailable):
    description = "Calendar feeds are being built for other requests; retry in a few seconds."


@contextmanager
def build_slot(folder: str | os.PathLike, *, slots: int, wait_seconds: float) -> Iterator[None]:
    """Hold one of `slots` build slots for the block; raise NoSlot after `wait_seconds` without one.
    `slots` 0 turns the limit off."""
    if slots <= 0:
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        for index in range(slots):
            fd = os.open(Path(folder) / f"feed-build-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        if time.monotonic() >= deadline:
            raise NoSlot(retry_after=RETRY_AFTER_SECONDS)
        time.sleep(POLL_SECONDS)
