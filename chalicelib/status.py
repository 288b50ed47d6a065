"""What `python -m chalicelib status` and GET /status report: whether data flows.

Per source and mode the last run and the last successful one (run records, runs.py), the pull's
cursor and its age, the next scheduled run; the queue's depth and the age of its oldest message;
dead letters by source and reason; when the LRS's and each platform's credentials last worked and
whether one is refused; what is configured. Read from the store and the queue only: no call to the
LRS or a platform, so the route costs little however often it is asked.

"attention" (exit 1) when there are dead letters, a source's last run failed or credentials are
refused."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import shown_id
from .platforms import PLATFORMS, unset_settings, webhook_settings
from .processing import LRS_FLAG, auth_flag
from .pull.runner import cursor_name
from .store import Run, RunHistory, RunLog

if TYPE_CHECKING:
    from .connections import Connection
    from .intake.http import Reply
    from .platforms import Platform
    from .platforms.pulling import Mode
    from .runtime import Services
    from .settings import Settings

# Secret settings of the routes: a route whose setting is unset answers 503.
ROUTE_SETTINGS = ("LAP_TOKEN", "SHARE_LINKS_TOKEN", "SHARE_LINK_SECRET", "STATUS_TOKEN")
PULL_MODES: tuple[Mode, ...] = ("backfill", "sync")
# A scheduled sync moves the sync cursor, as `sync` does.
CURSOR_MODES: dict[str, Mode] = {"backfill": "backfill", "sync": "sync", "scheduled-sync": "sync"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunShown(_Model):
    started_at: str
    ended_at: str
    outcome: Literal["finished", "stopped early", "failed"] = Field(
        description="stopped early: a deadline or page bound ended it, the next run resumes"
    )
    exit_code: int = Field(description="0 done, 1 dead letters or bad rows, 2 configuration, 3 outside failure")
    records: int
    statements: int | None = Field(description="delivered or already stored; null: queued for the workers")
    dead_letters: int | None = Field(description="this run's; null: not delivering where it ran")
    error: str | None = Field(description="one line; never e-mails or secrets")


class CursorShown(_Model):
    value: str = Field(description="where the next run resumes (a page link, a watermark), shortened")
    updated_at: str | None
    age_seconds: int | None


class SourceStatus(_Model):
    source: str = Field(description="a platform, a CSV import's label, or `expiry`")
    mode: str = Field(description="backfill, sync, scheduled-sync, reconcile, import-csv, expire, scheduled-expire")
    last_run: RunShown | None = Field(description="null: a cursor without a recorded run")
    last_success: RunShown | None
    cursor: CursorShown | None = Field(description="backfill and sync only; null: the next run starts over")
    next_run_at: str | None = Field(description="scheduled modes: the last run's start plus the rate")


class Schedule(_Model):
    source: str
    mode: Literal["scheduled-sync", "scheduled-expire"]
    rate_minutes: int
    next_run_at: str | None = Field(description="null: no run recorded yet")


class QueueStatus(_Model):
    backend: Literal["local", "sqs"]
    depth: int | None = Field(description="messages waiting or in flight; null: the queue cannot tell")
    oldest_age_seconds: int | None = Field(
        description="age of the oldest message (local outbox); null when empty, and on SQS (a CloudWatch metric)"
    )


class DeadLetterCount(_Model):
    source: str
    reason: str = Field(description="ids replaced by <id>, so that alike reasons count together")
    count: int


class DeadLetterStatus(_Model):
    total: int
    by_source_and_reason: list[DeadLetterCount]


class CredentialStatus(_Model):
    name: str = Field(description="`lrs`, or `<platform>_auth` (`<connection>_auth` for a named connection)")
    problem: str | None = Field(description="the refusal, until a later call with these credentials succeeds")
    verified_at: str | None = Field(description="the last call that succeeded (noted at most once a minute)")


class PlatformStatus(_Model):
    name: str
    settings_not_set: list[str] = Field(description="of its API and webhook settings")


class Configuration(_Model):
    platforms: list[PlatformStatus]
    routes_not_configured: list[str] = Field(description="settings not set: the routes needing them answer 503")
    sync_platforms: list[str] = Field(description="SYNC_PLATFORMS: synced on a schedule on AWS")


class DirectoryStatus(_Model):
    source: str = Field(description="LEARNER_DIRECTORY: a path, s3://bucket/key or a URL (without query)")
    entries: int | None = Field(description="people in the version last loaded; null: none loaded yet")
    loaded_at: str | None = Field(description="when that version was loaded (by any function or process)")
    last_error: str | None = Field(
        description="why the last check failed (the loaded version stays in use); null when it succeeded"
    )


class StatusReport(_Model):
    """`status --json` and GET /status: the same document."""

    status: Literal["ok", "attention"]
    attention: list[str] = Field(description="why: dead letters, a failed last run, refused credentials")
    generated_at: str
    sources: list[SourceStatus]
    schedules: list[Schedule]
    queue: QueueStatus
    dead_letters: DeadLetterStatus
    credentials: list[CredentialStatus]
    configuration: Configuration
    directory: DirectoryStatus | None = Field(None, description="null: LEARNER_DIRECTORY is not set")


def _now() -> datetime:
    return datetime.now(UTC)


def gather(services: Services, environ: Mapping[str, str] | None = None) -> StatusReport:
    env = os.environ if environ is None else environ
    now = _now()
    store = services.store
    histories = {(h.last.source, h.last.mode): h for h in store.runs()}
    named, broken = _named(services)
    pulls = {**{p.name: p for p in PLATFORMS.values()}, **{c.name: PLATFORMS[c.platform] for c in named}}
    sources = [_source(store, key, histories.get(key), now, pulls) for key in _source_keys(store, histories, pulls)]
    schedules = _schedules(env, histories)
    next_runs: dict[tuple[str, str], str | None] = {(s.source, s.mode): s.next_run_at for s in schedules}
    sources = [s.model_copy(update={"next_run_at": next_runs.get((s.source, s.mode))}) for s in sources]
    letters = _dead_letters(services)
    credentials = _credentials(services, named)
    attention = _attention(sources, letters, credentials) + broken
    return StatusReport(
        status="attention" if attention else "ok",
        attention=attention,
        generated_at=_iso(now),
        sources=sources,
        schedules=schedules,
        queue=_queue(services, now),
        dead_letters=letters,
        credentials=credentials,
        configuration=_configuration(services, env, named),
        directory=_directory(services, histories),
    )


def _named(services: Services) -> tuple[tuple[Connection, ...], list[str]]:
    """The named connections (CONNECTIONS), and why none can be shown when the file is refused."""
    from .connections import named_connections
    from .errors import SettingsError

    try:
        return named_connections(services.settings), []
    except SettingsError as error:
        return (), [str(error)]


def _source_keys(
    store: RunLog, histories: dict[tuple[str, str], RunHistory], pulls: dict[str, Platform]
) -> list[tuple[str, str]]:
    """Every (source, mode) with a run, and every pull (of a platform's default connection or a named
    one) with a cursor but no run recorded."""
    keys = set(histories)
    keys.update(
        (name, mode)
        for name, p in pulls.items()
        for mode in PULL_MODES
        if mode in p.pull and store.cursor(cursor_name(name, mode)) is not None
    )
    return sorted(keys)


def _source(
    store: RunLog, key: tuple[str, str], history: RunHistory | None, now: datetime, pulls: dict[str, Platform]
) -> SourceStatus:
    source, mode = key
    cursor = None
    if mode in CURSOR_MODES and source in pulls:
        name = cursor_name(source, CURSOR_MODES[mode])
        value = store.cursor(name)
        if value is not None:
            updated = store.cursor_updated_at(name)
            cursor = CursorShown(value=shown_id(value, 160), updated_at=updated, age_seconds=_age(updated, now))
    return SourceStatus(
        source=source,
        mode=mode,
        last_run=_shown(history.last if history else None),
        last_success=_shown(history.last_success if history else None),
        cursor=cursor,
        next_run_at=None,
    )


def _shown(run: Run | None) -> RunShown | None:
    if run is None:
        return None
    return RunShown(
        started_at=run.started_at,
        ended_at=run.ended_at,
        outcome=run.outcome,  # type: ignore[arg-type]
        exit_code=run.exit_code,
        records=run.records,
        statements=run.statements,
        dead_letters=run.dead_letters,
        error=run.error,
    )


def schedule_rates(env: Mapping[str, str]) -> tuple[list[str], int, int]:
    """(SYNC_PLATFORMS, SYNC_RATE_MINUTES, EXPIRY_SWEEP_RATE_MINUTES) as app.py reads them."""
    platforms = [p.strip() for p in env.get("SYNC_PLATFORMS", "").split(",") if p.strip()]
    return platforms, _minutes(env, "SYNC_RATE_MINUTES", 60), _minutes(env, "EXPIRY_SWEEP_RATE_MINUTES", 0)


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    return int(text) if text.isdigit() else default


def _schedules(env: Mapping[str, str], histories: dict[tuple[str, str], RunHistory]) -> list[Schedule]:
    platforms, sync_rate, sweep_rate = schedule_rates(env)
    wanted: list[tuple[str, Literal["scheduled-sync", "scheduled-expire"], int]] = [
        (p, "scheduled-sync", sync_rate) for p in platforms
    ]
    if sweep_rate:
        wanted.append(("expiry", "scheduled-expire", sweep_rate))
    schedules = []
    for source, mode, rate in wanted:
        history = histories.get((source, mode))
        next_at = None
        if history is not None:
            next_at = _iso(datetime.fromisoformat(history.last.started_at) + timedelta(minutes=rate))
        schedules.append(Schedule(source=source, mode=mode, rate_minutes=rate, next_run_at=next_at))
    return schedules


def _queue(services: Services, now: datetime) -> QueueStatus:
    backend = services.settings.queue_backend
    oldest = services.queue.oldest_received_at() if backend == "local" else None  # type: ignore[attr-defined]
    return QueueStatus(backend=backend, depth=services.queue.depth(), oldest_age_seconds=_age(oldest, now))


def _dead_letters(services: Services) -> DeadLetterStatus:
    from .commands.local_delivery import reason_group

    counts = Counter((letter.source, reason_group(letter.reason)) for letter in services.store.dead_letters())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return DeadLetterStatus(
        total=sum(counts.values()),
        by_source_and_reason=[
            DeadLetterCount(source=source, reason=reason, count=count) for (source, reason), count in ordered
        ],
    )


def _credentials(services: Services, named: tuple[Connection, ...]) -> list[CredentialStatus]:
    """The LRS, each platform (and named connection) whose API is configured, and any other flag raised."""
    settings, store = services.settings, services.store
    flags, verified = store.flags(), store.verified()
    names = [LRS_FLAG] + [
        auth_flag(name)
        for name, p, own in _accounts(settings, named)
        if p.has_api and not unset_settings(own, p.api_settings)
    ]
    names += sorted(set(flags) - set(names))
    return [CredentialStatus(name=name, problem=flags.get(name), verified_at=verified.get(name)) for name in names]


def _accounts(settings: Settings, named: tuple[Connection, ...]) -> list[tuple[str, Platform, Settings]]:
    """Each platform's default connection, then each named one (by its name), with its settings."""
    return [(p.name, p, settings) for p in PLATFORMS.values()] + [
        (c.name, PLATFORMS[c.platform], c.settings) for c in named
    ]


def _directory(services: Services, histories: dict[tuple[str, str], RunHistory]) -> DirectoryStatus | None:
    """From the run records every process leaves when it loads the directory or fails to."""
    from .identity.sources import REFRESH_MODE, REFRESH_SOURCE, shown_location

    location = services.settings.learner_directory
    if not location:
        return None
    history = histories.get((REFRESH_SOURCE, REFRESH_MODE))
    loaded = history.last_success if history else None
    failed = history.last if history and not history.last.succeeded else None
    return DirectoryStatus(
        source=shown_location(location),
        entries=loaded.records if loaded else None,
        loaded_at=loaded.ended_at if loaded else None,
        last_error=failed.error if failed else None,
    )


def _configuration(services: Services, env: Mapping[str, str], named: tuple[Connection, ...]) -> Configuration:
    settings = services.settings
    platforms = []
    for name, p, own in _accounts(settings, named):
        needed = [*p.api_settings, *((p.webhook.secret, *p.webhook.needs) if p.webhook else ())]
        platforms.append(PlatformStatus(name=name, settings_not_set=unset_settings(own, dict.fromkeys(needed))))
    missing = unset_settings(settings, [*webhook_settings(), *ROUTE_SETTINGS])
    return Configuration(platforms=platforms, routes_not_configured=missing, sync_platforms=schedule_rates(env)[0])


def _attention(
    sources: list[SourceStatus], letters: DeadLetterStatus, credentials: list[CredentialStatus]
) -> list[str]:
    reasons = [f"{letters.total} dead letter(s) (`deadletters list`)"] if letters.total else []
    reasons += [
        f"{s.source} {s.mode}: the last run failed (exit {s.last_run.exit_code}): {s.last_run.error}"
        for s in sources
        if s.last_run is not None and s.last_run.outcome == "failed"
    ]
    reasons += [f"{c.name}: {c.problem}" for c in credentials if c.problem]
    return reasons


def _age(iso: str | None, now: datetime) -> int | None:
    if not iso:
        return None
    return max(0, int((now - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds()))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


REFUSED = "missing or wrong bearer token"


def answer(services: Services, authorization: str | None) -> Reply:
    """GET /status: the report to the holder of STATUS_TOKEN (Bearer); 401 to anyone else, 503
    naming the setting when it is not set."""
    from .intake.http import Reply, answers_errors, token_refusal

    @answers_errors
    def status() -> Reply:
        refusal = token_refusal(services.settings, "STATUS_TOKEN", authorization, REFUSED)
        return refusal or Reply(200, gather(services))

    return status()


def exit_code(report: StatusReport) -> int:
    """0 when healthy, 1 when something needs attention (docs/operating.md#status)."""
    return 0 if report.status == "ok" else 1


def render(report: StatusReport) -> list[str]:
    """The report as text lines."""
    lines = [f"status: {report.status}" + "".join(f"\n  ! {reason}" for reason in report.attention)]
    lines.append("runs:")
    for s in report.sources or []:
        lines.extend(_source_lines(s))
    if not report.sources:
        lines.append("  (no run recorded)")
    for schedule in report.schedules:
        lines.append(
            f"schedule: {schedule.source} {schedule.mode} every {schedule.rate_minutes} min, next "
            f"{schedule.next_run_at or 'after the first run'}"
        )
    queue = report.queue
    oldest = (
        "unknown"
        if queue.backend == "sqs"
        else _duration(queue.oldest_age_seconds)
        if queue.oldest_age_seconds is not None
        else "none waiting"
    )
    lines.append(f"queue ({queue.backend}): {_or_unknown(queue.depth)} message(s), oldest {oldest}")
    lines.append(f"dead letters: {report.dead_letters.total}")
    lines.extend(f"  {c.count:>5} x {c.source}: {c.reason}" for c in report.dead_letters.by_source_and_reason)
    lines.append("credentials:")
    for c in report.credentials:
        state = f"REFUSED: {c.problem}" if c.problem else "ok"
        lines.append(f"  {c.name:<16} {state}; last worked {c.verified_at or 'not recorded'}")
    config = report.configuration
    lines.append("configuration:")
    for p in config.platforms:
        lines.append(
            f"  {p.name:<12} " + (f"not set: {', '.join(p.settings_not_set)}" if p.settings_not_set else "configured")
        )
    lines.append(f"  routes not configured: {', '.join(config.routes_not_configured) or 'none'}")
    lines.append(f"  scheduled syncs: {', '.join(config.sync_platforms) or 'none'}")
    if report.directory is not None:
        d = report.directory
        loaded = f"{d.entries} people loaded {d.loaded_at}" if d.loaded_at else "not loaded yet"
        lines.append(
            f"learner directory: {d.source}: {loaded}"
            + (f"; last check failed: {d.last_error}" if d.last_error else "")
        )
    return lines


def _source_lines(s: SourceStatus) -> list[str]:
    lines = [f"  {s.source} {s.mode}:"]
    for label, run in (("last run", s.last_run), ("last success", s.last_success)):
        if run is None:
            lines.append(f"    {label}: none recorded")
            continue
        counts = f"{run.records} record(s), " + (
            f"{run.statements} statement(s)" if run.statements is not None else "queued for the workers"
        )
        if run.dead_letters:
            counts += f", {run.dead_letters} dead letter(s)"
        lines.append(f"    {label}: {run.started_at} .. {run.ended_at} {run.outcome} (exit {run.exit_code}), {counts}")
        if run.error and label == "last run":
            lines.append(f"      error: {run.error}")
    if s.cursor is not None:
        lines.append(f"    cursor: {s.cursor.value} (set {_duration(s.cursor.age_seconds)} ago)")
    elif s.mode in CURSOR_MODES:
        lines.append("    cursor: none (the next run starts over)")
    if s.next_run_at:
        lines.append(f"    next run: {s.next_run_at}")
    return lines


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds} s"


def _or_unknown(value: int | None) -> str:
    return "unknown" if value is None else str(value)
