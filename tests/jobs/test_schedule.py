"""One table of periodic work, read by the embedded server and by the arq workers alike, and
the job kinds the domains register."""

from __future__ import annotations

from datetime import timedelta

from gridpoints.jobs import registry
from gridpoints.jobs.worker import build_worker
from gridpoints.wiring import Runtime, open_runtime, periodic_work, wire
from tests.conftest import make_settings

NAMES = [
    "sweep_jobs",
    "close_stale_checkins",
    "score_pending",
    "close_previous_quarter",
    "audit_checkpoint",
]


def _deployment(tmp_path):
    return make_settings(
        tmp_path, f"sqlite:///{tmp_path}/db.sqlite3", redis_url="redis://127.0.0.1:6379/0"
    )


def test_the_workers_cron_and_the_embedded_loops_are_the_same_table(tmp_path):
    settings = _deployment(tmp_path)
    schedule = periodic_work(settings)
    assert [entry.name for entry in schedule] == NAMES

    worker = build_worker(settings, schedule, open_runtime)
    prefix = settings.redis_prefix.rstrip(":")
    cron_names = [job.name.rsplit(":", 1)[-1] for job in worker.cron_jobs]
    assert cron_names == NAMES
    assert all(job.name.startswith(prefix + ":") for job in worker.cron_jobs)

    runtime = Runtime(settings, rulesets=[], job_queue=None)  # type: ignore[arg-type]
    loops = [entry.loop(runtime) for entry in schedule]
    assert [loop.name for loop in loops] == NAMES


def test_each_entry_says_when_workers_and_the_embedded_server_run_it(tmp_path):
    settings = _deployment(tmp_path)
    by_name = {entry.name: entry for entry in periodic_work(settings)}
    assert by_name["close_stale_checkins"].every == timedelta(minutes=15)
    assert by_name["close_stale_checkins"].at.as_cron() == {
        "minute": {0, 15, 30, 45},
        "second": {0},
    }
    assert by_name["score_pending"].at.as_cron() == {"second": {0}}  # every minute
    assert by_name["close_previous_quarter"].at.as_cron() == {
        "hour": {1},
        "minute": {5},
        "second": {0},
    }
    # The audit checkpoint is written at once when the embedded server starts.
    assert by_name["audit_checkpoint"].first_after == timedelta(0)
    sweep = by_name["sweep_jobs"]
    assert sweep.every <= timedelta(minutes=1)
    assert sweep.at.second == set(range(0, 60, int(sweep.every.total_seconds())))


def test_the_domains_job_kinds_are_registered_once_wired():
    wire()
    assert {"members.import", "points.dry_run", "points.rescore"} <= set(registry.HANDLERS)
    assert registry.handler_for("members.import").__name__ == "import_members"


def test_a_kind_nobody_registered_is_refused_by_name():
    wire()
    try:
        registry.handler_for("reports.unknown")
    except registry.UnknownJobKind as refused:
        assert str(refused) == "reports.unknown"
    else:
        raise AssertionError("an unregistered kind was given a handler")
