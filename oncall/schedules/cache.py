"""Per-process cache of built schedules, so "who is on call" costs one cheap query, not a schedule load.

Every write that can change a rotation's shifts (the rotation itself, its overrides, its participants'
time off and contact details) bumps `rotations.revision` and `updated_at` in the same transaction
(service.touch_rotations); the pair is the stamp. A cached entry
is used only while that stamp is unchanged and the asked instant lies well inside the window it was built
for, so every process sees a change as soon as it is committed: the stamp is read from the database on
each call, only the heavy part is reused."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall.schedules import timeline


@dataclass(frozen=True)
class CachedSchedule:
    rotation_id: int
    name: str
    team_id: int
    stamp: tuple  # (rotations.revision, rotations.updated_at) read with the rows it was built from
    built_from: datetime
    built_until: datetime
    margin: timedelta  # longer than any shift: the shift around an answered instant is inside the window
    schedule: timeline.Schedule
    # Contact details of everyone who can appear in the window (participants, override takers): a change
    # to a user touches their rotations (service.touch_rotations_of_user), so the stamp covers these too.
    people: Mapping[int, Mapping[str, object]]

    def covers(self, at: datetime) -> bool:
        return self.built_from + self.margin <= at <= self.built_until - self.margin


class ScheduleCache:
    def __init__(self, *, max_entries: int = 2048) -> None:
        self._max = max_entries
        self._entries: OrderedDict[int, CachedSchedule] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rotation_id: int, stamp: tuple, at: datetime) -> CachedSchedule | None:
        with self._lock:
            entry = self._entries.get(rotation_id)
            if entry is None or entry.stamp != stamp or not entry.covers(at):
                return None
            self._entries.move_to_end(rotation_id)
            return entry

    def put(self, entry: CachedSchedule) -> None:
        with self._lock:
            self._entries[entry.rotation_id] = entry
            self._entries.move_to_end(entry.rotation_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


schedules = ScheduleCache()
