"""The tests' clock: what `oncall.clock.utcnow()` answers while a test runs (see the `clock` fixture in
tests/conftest.py)."""
import time
from datetime import datetime, timedelta

from oncall.clock import require_aware


class TestClock:
    """Starts at a fixed instant and then runs at real speed (time.monotonic), so code that orders events by
    time still sees time pass; `freeze=True` stops it. The date never comes from the machine."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime, *, freeze: bool = False) -> datetime:
        self._at, self._since, self._frozen = require_aware(at, "at"), time.monotonic(), freeze
        return self._at

    def advance(self, delta: timedelta) -> datetime:
        return self.set(self() + delta, freeze=self._frozen)

    def __call__(self) -> datetime:
        if self._frozen:
            return self._at
        return self._at + timedelta(seconds=time.monotonic() - self._since)
