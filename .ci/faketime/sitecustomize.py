"""Loaded by every Python process that .ci/at starts (it puts this folder on PYTHONPATH), and only there.

Debian 12's libfaketime (0.9.10) with monotonic clocks left real (FAKETIME_DONT_FAKE_MONOTONIC=1, which
Python's timed waits need) rewrites the deadline of clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) as if it
were a faked wall-clock instant, so the kernel gets a negative time and time.sleep() raises EINVAL on Python
3.11+ (libfaketime issue 426, fixed after 0.9.10). Sleep through select(), whose timeout is relative."""
import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
