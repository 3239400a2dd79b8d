"""Calendar feeds: how fast a feed is built, and how the HTTP stack serves them to polling clients.

1. In process: building the default-window (210 days) feed of a weekly rotation with 200 overrides and
   50 time-off entries, and of its team (that rotation plus a daily one), with every cache bypassed.
2. Through gunicorn (-w 2) and wrk, on SQLite and on PostgreSQL: the median latency of a 304 (one
   client), then the team feed under 8 concurrent clients, answering 200s and answering 304s. The 200
   run is repeated with the rendered-feed cache turned off (ONCALL_FEED_CACHE_ITEMS=0), i.e. a full
   build on every request, the worst case of clients that poll after every change.

Run from the repository root: `python bench/bench_feeds.py [--seconds 10] [--no-postgres]`.
Needs wrk (`apt-get install wrk`); without it a slower Python client is used and says so. Prints
PASS/MISS against the targets of issue #3 and always exits 0: timings depend on the machine.
"""
import argparse
import os
import statistics
import sys
import tempfile
import urllib.request
from datetime import datetime, time as wall, timedelta, timezone
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_load import (  # noqa: E402
    POSTGRES_BENCH_URL, ensure_postgres_database, fresh_database, gunicorn, wrk,
)

UTC = timezone.utc
BUILD_TARGET_MS = 50.0
NOT_MODIFIED_P50_TARGET_MS = 2.0
TEAM_200_TARGET_RPS, TEAM_200_TARGET_P99_MS = 800.0, 50.0
TEAM_304_TARGET_RPS = 2000.0
# The figures issue #3 gives for a peer's team feed on this kind of machine.
PEER_RPS, PEER_P99_MS = 158.0, 860.0
BUILD_RUNS = 30


def seed(url: str) -> dict:
    """A team with a weekly primary (200 overrides, 50 time-off entries of its people, all inside the default
    window) and a daily secondary rotation; a rotation feed and a team feed. Returns their paths."""
    from oncall.schema import upgrade

    from oncall import create_app
    from oncall.db import get_engine, get_sessionmaker
    from oncall.feeds import service as feeds
    from oncall.people import service as people
    from oncall.schedules import service as schedules

    fresh_database(url)
    app = create_app({"DATABASE_URL": url})
    now = datetime.now(UTC)
    today = datetime.combine(now.date(), wall(), UTC)
    window_start = today - feeds.DEFAULT_PAST
    span = feeds.DEFAULT_PAST + feeds.DEFAULT_AHEAD
    with app.app_context():
        upgrade(revision="heads")
        with get_sessionmaker().begin() as session:
            users = [people.create_user(session, name=f"Engineer {i}", email=f"e{i}@example.com",
                                        phone=f"+1415555{i:04d}", time_zone="America/New_York") for i in range(8)]
            team = people.create_team(session, name="Payments", slug="payments", time_zone="America/New_York")
            common = {"team_id": team.id, "time_zone": "America/New_York", "handoff_time": wall(9, 0),
                      "start_date": (today - timedelta(days=120)).date()}
            primary = schedules.create_rotation(session, name="Payments primary", participant_ids=[u.id for u in users[:4]],
                                                shift_length={"unit": "weeks", "count": 1}, **common)
            secondary = schedules.create_rotation(session, name="Payments secondary",
                                                  participant_ids=[u.id for u in users[4:]],
                                                  shift_length={"unit": "days", "count": 1}, **common)
            step = span / 200
            for i in range(200):  # 10-hour overrides spread over the whole window, never overlapping
                begin = window_start + step * i + timedelta(hours=3)
                schedules.add_override(session, rotation_id=primary.id, user_id=users[(i + 1) % 8].id,
                                       start_at=begin, end_at=begin + timedelta(hours=10), now=now)
            step = span / 50
            for i in range(50):  # 1 to 3 days away, each primary participant in turn
                begin = window_start + step * i + timedelta(hours=7)
                schedules.add_time_off(session, user_id=users[i % 4].id, start_at=begin,
                                       end_at=begin + timedelta(days=1 + i % 3), now=now)
            rotation_feed = feeds.create_feed(session, owner_id=users[0].id, scope="rotation", scope_id=primary.id,
                                              now=now)
            team_feed = feeds.create_feed(session, owner_id=users[0].id, scope="team", scope_id=team.id, now=now)
            paths = {"rotation": f"/calendars/{rotation_feed.secret}.ics", "team": f"/calendars/{team_feed.secret}.ics",
                     "rotation_secret": rotation_feed.secret, "team_secret": team_feed.secret}
    get_engine(app).dispose()
    return paths


def time_builds(url: str, paths: dict) -> dict:
    """Median and best build time of each feed, in process, no cache involved."""
    from oncall import create_app
    from oncall.clock import utcnow
    from oncall.db import get_engine, get_session, get_sessionmaker
    from oncall.feeds import service as feeds

    app = create_app({"DATABASE_URL": url})
    out = {}
    with app.app_context():
        for kind in ("rotation", "team"):
            session = get_session()
            ref = feeds.find_feed(session, paths[f"{kind}_secret"])
            window = feeds.feed_window(utcnow())
            timings, size = [], 0
            for _ in range(BUILD_RUNS):
                t0 = perf_counter()
                body = feeds.build_feed(session, ref, window, reminder=None, public_url=app.config["PUBLIC_URL"],
                                        open_writer=get_sessionmaker().begin)
                timings.append((perf_counter() - t0) * 1000)
                session.expunge_all()  # no ORM identity-map help between runs
            size = len(body)
            out[kind] = {"median": statistics.median(timings), "best": min(timings), "bytes": size,
                         "events": body.count(b"BEGIN:VEVENT")}
            state = feeds.feed_state(session, ref)
            t0 = perf_counter()
            for _ in range(200):
                feeds.feed_state(session, ref)
            out[kind]["state_ms"] = (perf_counter() - t0) * 1000 / 200
            out[kind]["etag"] = state.etag(ref, window, None, app.config["PUBLIC_URL"])
    get_engine(app).dispose()
    return out


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report_build(label: str, builds: dict) -> None:
    b = builds["rotation"]
    print(f"{label:<10} build rotation feed: median {b['median']:6.1f} ms  best {b['best']:6.1f} ms  "
          f"({b['events']} events, {b['bytes'] // 1024} KiB)  target < {BUILD_TARGET_MS:.0f} ms  "
          f"ratio {b['median'] / BUILD_TARGET_MS:.2f} of target  [{verdict(b['median'] < BUILD_TARGET_MS)}]")
    b = builds["team"]
    print(f"{label:<10} build team feed:     median {b['median']:6.1f} ms  best {b['best']:6.1f} ms  "
          f"({b['events']} events, {b['bytes'] // 1024} KiB)  no target: built once per change and process")
    print(f"{label:<10} validator query (all a 304 asks of the database): {builds['team']['state_ms'] * 1000:.0f} us")


def run_http(label: str, url: str, paths: dict, seconds: int) -> None:
    env = {"ONCALL_DATABASE_URL": url}
    with gunicorn(env) as base:
        etags = {}
        for kind in ("rotation", "team"):
            with urllib.request.urlopen(base + paths[kind]) as response:
                etags[kind] = response.headers["ETag"]
        wrk(base + paths["team"], seconds=2)  # warm-up: imports, pools, caches in both workers
        one = wrk(base + paths["rotation"], headers={"If-None-Match": etags["rotation"]}, seconds=seconds,
                  connections=1, threads=1)
        team_200 = wrk(base + paths["team"], seconds=seconds)
        team_304 = wrk(base + paths["team"], headers={"If-None-Match": etags["team"]}, seconds=seconds)
    with gunicorn(env | {"ONCALL_FEED_CACHE_ITEMS": "0"}) as base:
        wrk(base + paths["team"], seconds=2)
        uncached = wrk(base + paths["team"], seconds=seconds)

    ok = one["p50"] < NOT_MODIFIED_P50_TARGET_MS
    print(f"{label:<10} 304, 1 client:        p50 {one['p50']:6.2f} ms  p99 {one['p99']:6.2f} ms  "
          f"target p50 < {NOT_MODIFIED_P50_TARGET_MS} ms  ratio {one['p50'] / NOT_MODIFIED_P50_TARGET_MS:.2f} of target"
          f"  [{verdict(ok)}] ({one['tool']})")
    ok = team_200["rps"] >= TEAM_200_TARGET_RPS and team_200["p99"] < TEAM_200_TARGET_P99_MS
    print(f"{label:<10} team 200, 8 clients: {team_200['rps']:7.0f} req/s  p50 {team_200['p50']:6.2f} ms  "
          f"p99 {team_200['p99']:6.2f} ms  errors {team_200['errors']}  target >= {TEAM_200_TARGET_RPS:.0f} req/s, "
          f"p99 < {TEAM_200_TARGET_P99_MS:.0f} ms  [{verdict(ok)}]  "
          f"{team_200['rps'] / TEAM_200_TARGET_RPS:.1f}x target, {team_200['rps'] / PEER_RPS:.1f}x the peer")
    ok = team_304["rps"] >= TEAM_304_TARGET_RPS
    print(f"{label:<10} team 304, 8 clients: {team_304['rps']:7.0f} req/s  p50 {team_304['p50']:6.2f} ms  "
          f"p99 {team_304['p99']:6.2f} ms  errors {team_304['errors']}  target >= {TEAM_304_TARGET_RPS:.0f} req/s  "
          f"[{verdict(ok)}]  {team_304['rps'] / TEAM_304_TARGET_RPS:.1f}x target")
    print(f"{label:<10} team 200, no cache:  {uncached['rps']:7.0f} req/s  p50 {uncached['p50']:6.2f} ms  "
          f"p99 {uncached['p99']:6.2f} ms  errors {uncached['errors']}  (every request builds; "
          f"{uncached['rps'] / PEER_RPS:.1f}x the peer's {PEER_RPS:.0f} req/s, p99 {PEER_P99_MS:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    databases = [("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench_feeds.db'}")]
    if not args.no_postgres and ensure_postgres_database(POSTGRES_BENCH_URL.rsplit("/", 1)[0] + "/oncall_bench_feeds"):
        databases.append(("PostgreSQL", POSTGRES_BENCH_URL.rsplit("/", 1)[0] + "/oncall_bench_feeds"))
    print("Calendar feeds: default window (30 days back, 180 ahead); weekly primary with 200 overrides and"
          " 50 time-off entries, daily secondary")
    print(f"HTTP: gunicorn -w 2, wrk, {args.seconds}s per run; peer for scale: {PEER_RPS:.0f} req/s, "
          f"p99 {PEER_P99_MS:.0f} ms; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    for label, url in databases:
        paths = seed(url)
        report_build(label, time_builds(url, paths))
        run_http(label, url, paths, args.seconds)


if __name__ == "__main__":
    main()
