"""Timing of timeline.py on a busy year: on_call_at per query, a year of shifts_between, build_schedule.

Run from the repository root: `python bench/bench_timeline.py`. Prints PASS/FAIL against the
targets but always exits 0: timings depend on the machine, so this informs rather than gates.
"""
import random
import statistics
import sys
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from time import perf_counter
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncall.schedules import timeline  # noqa: E402

UTC = timezone.utc
ON_CALL_TARGET_US = 20.0
YEAR_TARGET_MS = 10.0
RUNS = 7
QUERIES = 20_000
NAIVE_QUERIES = 300

PEOPLE = (1, 2, 3, 4, 5)
ZONE = "America/New_York"  # DST on, so every handoff goes through local-time resolution
START = date(2026, 1, 5)
YEAR_START = datetime(2026, 1, 5, 14, tzinfo=UTC)
YEAR_END = YEAR_START + timedelta(days=365)


def busy_year(seed: int = 7):
    rng = random.Random(seed)
    version = timeline.RotationVersion(
        effective_at=None, time_zone=ZONE, handoff_time=time(9), shift_length=timeline.ShiftLength("days", 1),
        start_date=START, participant_ids=PEOPLE,
    )
    # 200 non-overlapping overrides of 1-12 hours, each inside its own random 12-hour slot of the year.
    overrides = []
    for i, slot in enumerate(sorted(rng.sample(range(365 * 2), 200))):
        offset = rng.randint(0, 11)
        at = YEAR_START + timedelta(hours=12 * slot + offset)
        end_at = at + timedelta(hours=rng.randint(1, 12 - offset))
        overrides.append(timeline.Override(rng.choice(PEOPLE), at, end_at, id=i))
    time_off = []
    for i in range(50):
        at = YEAR_START + timedelta(hours=rng.randint(0, 365 * 24))
        time_off.append(timeline.TimeOff(rng.choice(PEOPLE), at, at + timedelta(hours=rng.randint(24, 120)), id=i))
    return [version], overrides, time_off


# --- a naive baseline: expand every shift from the start date, scan every list -------------------

def naive_on_call_at(versions, overrides, time_off, at):
    """Who is on call at `at`; PTO simplified to the first participant free at that instant."""
    v = versions[0]
    tz = ZoneInfo(v.time_zone)
    k = 0
    while timeline.resolve_local(v.start_date + timedelta(days=k + 1), v.handoff_time, tz) <= at:
        k += 1
    for o in reversed(overrides):
        if o.start_at <= at < o.end_at:
            return o.user_id, "override"
    ids = v.participant_ids
    user = ids[k % len(ids)]

    def away(u):
        return any(t.user_id == u and t.start_at <= at < t.end_at for t in time_off)

    if not away(user):
        return user, "rotation"
    for j in range(1, len(ids)):
        if not away(ids[(k + j) % len(ids)]):
            return ids[(k + j) % len(ids)], "time_off"
    return None, "uncovered"


def naive_shifts_between(versions, overrides, time_off, start_at, end_at):
    """Every base shift from the start date, cut at every override and time-off edge, each piece scanned."""
    v = versions[0]
    tz = ZoneInfo(v.time_zone)
    edges = sorted({o.start_at for o in overrides} | {o.end_at for o in overrides}
                   | {t.start_at for t in time_off} | {t.end_at for t in time_off})
    out = []
    k = 0
    while True:
        s = timeline.resolve_local(v.start_date + timedelta(days=k), v.handoff_time, tz)
        e = timeline.resolve_local(v.start_date + timedelta(days=k + 1), v.handoff_time, tz)
        k += 1
        if e <= start_at:
            continue
        if s >= end_at:
            break
        cuts = [max(s, start_at)] + [x for x in edges if s < x < e and start_at < x < end_at] + [min(e, end_at)]
        for a, b in pairwise(cuts):
            owner = naive_on_call_at(versions, overrides, time_off, a)
            if out and out[-1][1] == a and out[-1][2] == owner:
                out[-1] = (out[-1][0], b, owner)
            else:
                out.append((a, b, owner))
    return out


# --- measuring ---------------------------------------------------------------------------------

def median_seconds(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        began = perf_counter()
        fn()
        times.append(perf_counter() - began)
    return statistics.median(times)


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


def main() -> int:
    versions, overrides, time_off = busy_year()
    build_s = median_seconds(lambda: timeline.build_schedule(versions, overrides, time_off))
    schedule = timeline.build_schedule(versions, overrides, time_off)

    rng = random.Random(11)
    span = int((YEAR_END - YEAR_START).total_seconds())
    instants = [YEAR_START + timedelta(seconds=rng.randrange(span)) for _ in range(QUERIES)]

    def queries():
        on_call_at = timeline.on_call_at
        for at in instants:
            on_call_at(schedule, at)

    on_call_us = median_seconds(queries) / QUERIES * 1e6
    year_ms = median_seconds(lambda: timeline.shifts_between(schedule, YEAR_START, YEAR_END), runs=21) * 1e3
    year = timeline.shifts_between(schedule, YEAR_START, YEAR_END)

    naive_instants = instants[:NAIVE_QUERIES]
    naive_on_call_us = median_seconds(
        lambda: [naive_on_call_at(versions, overrides, time_off, at) for at in naive_instants], runs=3,
    ) / NAIVE_QUERIES * 1e6
    naive_year_ms = median_seconds(
        lambda: naive_shifts_between(versions, overrides, time_off, YEAR_START, YEAR_END), runs=1) * 1e3
    sources = {s: sum(1 for x in year if x.source == s) for s in ("rotation", "override", "time_off", "uncovered")}

    print(f"timeline benchmark: daily {ZONE} rotation, {len(PEOPLE)} participants, "
          f"{len(overrides)} overrides, {len(time_off)} time-off entries, one year")
    print(f"  year of shifts_between -> {len(year)} pieces {sources}")
    print(f"  build_schedule          {build_s * 1e3:8.3f} ms")
    print(f"  on_call_at              {on_call_us:8.2f} us/query  (target {ON_CALL_TARGET_US:.0f} us)  "
          f"{verdict(on_call_us, ON_CALL_TARGET_US)}   naive {naive_on_call_us:8.1f} us/query, "
          f"x{naive_on_call_us / on_call_us:.0f}")
    print(f"  shifts_between 1 year   {year_ms:8.2f} ms        (target {YEAR_TARGET_MS:.0f} ms)  "
          f"{verdict(year_ms, YEAR_TARGET_MS)}   naive {naive_year_ms:8.1f} ms, x{naive_year_ms / year_ms:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
