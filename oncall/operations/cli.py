"""`oncall status`: the same verdict as GET /healthz, for an operator at a shell (exit code 0 only when ok)."""
import json

import click
from flask.cli import with_appcontext

from oncall.operations import health


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /healthz.")
@with_appcontext
def status_command(as_json: bool):
    """Is the pager working? Database, workers' heartbeats, overdue pages. Exits 0 ok, 1 degraded, 2 down."""
    from oncall.operations.views import check

    verdict = check()
    if as_json:
        click.echo(json.dumps(verdict.to_json(), indent=2))
    else:
        click.echo(render(verdict))
    raise SystemExit({health.OK: 0, health.DEGRADED: 1}.get(verdict.status, 2))


def render(verdict: health.Health) -> str:
    lines = [f"status: {verdict.status.upper()}", f"database: {verdict.database}"]
    lines += [f"  - {reason}" for reason in verdict.reasons]
    if verdict.status == health.DOWN:
        return "\n".join(lines)
    lines.append(f"oldest pending page: {verdict.oldest_pending_page_seconds:.0f} s"
                 f" (escalation lag {verdict.escalation_lag_seconds:.0f} s)")
    alive = sum(1 for w in verdict.workers if w["alive"])
    lines.append(f"workers: {alive} alive, {len(verdict.workers) - alive} silent")
    for w in verdict.workers:
        lines.append(f"  {'alive ' if w['alive'] else 'SILENT'} {w['id']} {w['host']} pid {w['pid']} "
                     f"v{w['version']}: last seen {w['last_seen']} ({w['age_seconds']:.0f} s ago), "
                     f"started {w['started']}")
    return "\n".join(lines)
