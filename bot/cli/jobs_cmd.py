"""`kefu jobs`: the timed jobs, what they last did, and running one now. What a command
needs is imported when it runs, so that `kefu jobs --help` starts fast."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from bot.settings import Settings
    from scheduler.execute import RunOutcome
    from scheduler.status import JobStatus, LeaderStatus

app = typer.Typer(help="Timed jobs: schedule, last run, run one now.", no_args_is_help=True)


async def statuses(settings: Settings) -> tuple[list[JobStatus], LeaderStatus | None]:
    from bot.cli.common import open_kefu
    from bot.dialogue.pipeline import utc_clock
    from scheduler.jobs import all_jobs
    from scheduler.status import job_statuses, leader_status

    async with open_kefu(settings) as kefu, kefu.sessions() as session:
        now = utc_clock()
        return (await job_statuses(session, jobs=all_jobs(settings), now=now),
                await leader_status(session, now=now,
                                    check_seconds=settings.scheduler.leader_check_seconds))


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Every job: schedule, next run, last run, outcome, duration, and who leads."""
    from bot.cli.common import run_async, settings_or_exit

    settings = settings_or_exit()
    found, leader = run_async(lambda: statuses(settings))
    if as_json:
        typer.echo(json.dumps({"leader": leader.as_json() if leader else None,
                               "jobs": [s.as_json() for s in found]}, ensure_ascii=False,
                              indent=2))
        return
    zone = ZoneInfo(settings.app.default_timezone)

    def show(value: object) -> str:
        if value is None:
            return "-"
        if hasattr(value, "astimezone"):
            return f"{value.astimezone(zone):%Y-%m-%d %H:%M:%S}"
        return str(value)

    typer.echo(f"{'JOB':<17}{'SCHEDULE':<30}{'NEXT RUN':<21}{'LAST RUN':<21}{'OUTCOME':<9}"
               "DURATION")
    for item in found:
        duration = "-" if item.duration_ms is None else f"{item.duration_ms} ms"
        outcome = "running" if item.running else show(item.last_outcome)
        typer.echo(f"{item.id:<17}{item.schedule:<30}{show(item.next_run):<21}"
                   f"{show(item.last_run):<21}{outcome:<9}{duration}")
        if item.last_outcome == "failed" and item.last_error:
            typer.echo(f"  last error: {item.last_error.splitlines()[-1]}")
    if leader is None:
        typer.echo("Leader: none yet (no `kefu serve` has run the jobs)")
    else:
        state = "" if leader.alive else " (not heard of since; no process leads now)"
        typer.echo(f"Leader: {leader.owner} since {show(leader.since)}, last seen "
                   f"{show(leader.heartbeat_at)}{state}")
    typer.echo(f"Times in {zone.key}.")


async def run_now(settings: Settings, job_id: str) -> RunOutcome:
    from bot.app_proactive import planner_for
    from bot.cli.common import open_kefu
    from bot.dialogue.pipeline import utc_clock
    from scheduler.execute import JobContext, run_job
    from scheduler.jobs import all_jobs, job_by_id

    job = job_by_id(settings, job_id)
    if job is None:
        known = ", ".join(j.id for j in all_jobs(settings))
        raise typer.BadParameter(f"no job {job_id!r}; the jobs are {known}")
    async with open_kefu(settings) as kefu:
        context = JobContext(sessions=kefu.sessions, settings=settings, clock=utc_clock,
                             planner=planner_for(kefu))
        return await run_job(job, context)


@app.command("run")
def run_command(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job's id (`kefu jobs list`)")],
) -> None:
    """Run one job now, as the scheduler would (never while it runs elsewhere)."""
    from bot.cli.common import fail, run_async, settings_or_exit, setup_logging

    setup_logging()
    settings = settings_or_exit()
    try:
        outcome = run_async(lambda: run_now(settings, job_id))
    except typer.BadParameter as exc:
        raise fail(f"Error: {exc}", 2) from None
    if outcome.outcome == "ok":
        typer.echo(f"{job_id}: ok in {outcome.duration_ms} ms ({outcome.detail})")
        return
    raise fail(f"{job_id}: {outcome.outcome}: {outcome.detail}")
