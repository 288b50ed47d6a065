"""Outbox -> worker -> LRS delivery, against the LRS's own ceiling; webhook acknowledgement time.

    python bench/delivery_throughput.py [--events 10000] [--lrs-batch 50] [--worker-batch 50]
                                        [--webhooks 2000] [--seed 20261128] [--profile]
                                        [--sequential] [--routes-docs 6000] [--routes-profile] [--rounds 5]
                                        [--cpus-apart]

Generates N distinct Credly badges from tests/fixtures/credly/badges_page_1.json (fixed seed;
state "pending" and no expiry before now, so each gives exactly one "earned" statement), then
measures in the same run:

  translate  Translator.translate("credly", {"data": badge}) for each badge, translator built
             once (these statements are the ceiling's input and the expected ids)
  enqueue    LocalOutbox.send of N QueueMessage(source="credly", kind="document") into the
             outbox of a fresh services() (SQLite in a temp dir)
  e2e        services().drainer().run_until_idle() until the outbox is empty, against a fresh
             in-memory Learning Locker (tools/lrs_process.py); worker and drainer built before
             the clock starts; pipelined (a sender thread POSTs while the drainer thread
             translates), or batch by batch with --sequential. Afterwards the LRS is queried
             (verb=earned, limit=500, following `more`) to check that exactly the N expected
             statement ids are stored, and the dead letters are counted. Time inside the drain
             is split by wrapping instance methods (outbox receive/ack, translate,
             LrsClient.send, store): ~1 us per call added.
  ceiling    the same statements POSTed by a plain requests.Session, in batches of LRS_BATCH_SIZE,
             sequentially, to another fresh LRS (bodies encoded before the clock starts)
  webhook    POST /webhooks/credly/{token} through the Chalice test client (thin notifications,
             distinct ids, LOCAL_WORKER unset: enqueue only), each request timed; floor: the same
             test client on a bare Chalice app with one no-op POST route. Requests to the two
             apps alternate, after a few warm-up requests to each that are not counted.

  routes     M Open Badges 2.0 assertions (distinct, from tests/fixtures/openbadges) POSTed to
             /ingest/openbadges in arrays of 200 against a running `chalice local` (devstack's
             Stack: its LOCAL_WORKER process drains the outbox) until the outbox is empty
             queue; ceiling: the same statements POSTed by a plain session to a fresh LRS
             ("RATIO routes e2e"). --routes-profile splits the routes' and the drain's time
             per document in-process (Chalice test client), then cProfiles both.

--cpus-apart runs every timed phase (e2e and ceiling alike) with the LRS on the first CPU and the
connector and this process on the others: the LRS then runs as on a machine of its own, which is
where it runs in production, instead of sharing its CPUs with the connector it measures.

Each ratio (outbox and routes) is measured --rounds times, e2e then ceiling, and the round with
the median ratio is reported, with every round's ratio and its two times listed.

Prints figures, never pass/fail; exits 0. RATIOS are the numbers to compare across machines:
e2e / ceiling (the LRS is measured on the same machine, in the same run) and route / floor.
The connector's JSON log lines are formatted as usual but written to /dev/null (--show-logs
to keep them). --profile adds a cProfile of one more drain (fresh LRS) and prints hot spots.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import csv
import gc
import io
import json
import os
import pstats
import random
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT, ROOT / "tools"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import credly_badges  # noqa: E402  (bench/ is on sys.path when run as a script)
import requests  # noqa: E402
from quiet_logs import silence_connector_logs  # noqa: E402

from chalicelib.delivery.translation import Translator  # noqa: E402
from chalicelib.queue import QueueMessage  # noqa: E402
from chalicelib.queue.local import LocalOutbox  # noqa: E402
from chalicelib.settings import Settings, load_settings  # noqa: E402
from lrs_process import XAPI_VERSION, LrsProcess  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "credly"
EARNED = "http://specification.openbadges.org/xapi/verbs/earned"
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def make_badges(count: int, seed: int) -> list[dict]:
    """Pending badges issued in 2024-2025; a quarter never expire, the rest 10 years after issue,
    so none has expired and each gives exactly one statement (earned)."""
    return credly_badges.make_badges(
        count,
        seed,
        start=datetime(2024, 1, 1, tzinfo=UTC),
        spread_days=2 * 365,
        expiry_days=(3650,),
        vary_templates=False,
        state="pending",
    )


# -- environment and helpers ---------------------------------------------------------------------


def configure(env: dict[str, str]) -> None:
    """Exactly these connector settings in os.environ (every other one unset), fresh services()."""
    from chalicelib.runtime import services

    for name in SETTING_NAMES:
        os.environ.pop(name, None)
    os.environ.update(env)
    services.cache_clear()


@contextmanager
def frozen_heap(args: argparse.Namespace) -> Iterator[None]:
    """Collect, then move every object alive (the bench's N badges, their statements, ...) out of
    the cyclic GC's reach while a phase is timed: a connector process does not hold them, and
    full collections walking them cost ~10% of an in-process drain. --no-gc-freeze keeps them."""
    gc.collect()
    if args.no_gc_freeze:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Split:
    """Wall time and calls per wrapped method (instance attributes only: chalicelib unchanged)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, obj: object, name: str, label: str) -> None:
        original = getattr(obj, name, None)
        if original is None:  # an older connector without that method: nothing to time
            return
        seconds, calls, clock = self.seconds, self.calls, time.perf_counter

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += clock() - t0
                calls[label] += 1

        setattr(obj, name, timed)


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU time of a process (all its threads) from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of the process on these CPUs (a process's affinity is each thread's own)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), cpus)


@contextmanager
def cpus_apart(args: argparse.Namespace, lrs_pid: int, connector_pids: Iterable[int] = ()) -> Iterator[None]:
    """With --cpus-apart: the LRS on the first CPU, this process and the connector's on the others,
    as if the LRS ran on a machine of its own; this process on every CPU again afterwards (the LRS
    and the connector end with the phase)."""
    if not args.cpus_apart:
        yield
        return
    everything = os.sched_getaffinity(0)
    lrs_cpus = {min(everything)}
    rest = everything - lrs_cpus
    pin(lrs_pid, lrs_cpus)
    for pid in (os.getpid(), *connector_pids):
        pin(pid, rest)
    try:
        yield
    finally:
        pin(os.getpid(), everything)


def tree_cpu_seconds(pid: int | None) -> float | None:
    """cpu_seconds of a process and its children (chalice local and its local worker process)."""
    if pid is None:
        return None
    from devstack import children_of

    readings = [cpu_seconds(p) for p in (pid, *children_of(pid))]
    return sum(r for r in readings if r is not None)


def machine_busy() -> float | None:
    """CPU seconds every process on the machine has used so far (from /proc/stat)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def cpu_used(before: tuple, after: tuple) -> tuple:
    """Differences of (this process, the LRS, [the machine], ...) CPU readings; the last entry
    becomes what other processes used when a machine reading is included."""
    return tuple(None if a is None or b is None else b - a for a, b in zip(before, after, strict=True))


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def count_stored(lrs: LrsProcess, session: requests.Session) -> list[str]:
    """Ids of the earned statements the LRS holds (verb filter, limit 500, following `more`)."""
    ids: list[str] = []
    url, params = lrs.statements_url, {"verb": EARNED, "limit": "500"}
    host = f"http://127.0.0.1:{lrs.port}/"
    while url:
        response = session.get(url, params=params, timeout=60)
        response.raise_for_status()
        page = response.json()
        ids.extend(s["id"] for s in page["statements"])
        more = page.get("more") or ""
        url, params = (urljoin(host, more) if more and page["statements"] else None), None
    return ids


# -- phases --------------------------------------------------------------------------------------


def translate_all(badges: list[dict], env: dict[str, str]) -> tuple[float, list[dict]]:
    translator = Translator(load_settings(env))
    translator.translate("credly", {"data": copy.deepcopy(badges[0])})  # warm: adapter built
    now = datetime.now(UTC)
    statements: list[dict] = []
    gc.collect()
    t0 = time.perf_counter()
    for badge in badges:
        statements.extend(translator.translate("credly", {"data": badge}, now).statements)
    seconds = time.perf_counter() - t0
    verbs = {s["verb"]["id"] for s in statements}
    if len(statements) != len(badges) or verbs != {EARNED}:
        raise SystemExit(f"setup error: {len(badges)} badges gave {len(statements)} statements, verbs {verbs}")
    return seconds, statements


def delivery_env(state_dir: Path, name: str, endpoint: str, args: argparse.Namespace) -> dict[str, str]:
    return {
        "STATE_PATH": str(state_dir / f"{name}.sqlite"),
        "LRS_ENDPOINT": endpoint,
        **batch_env(args),
    }


def batch_env(args: argparse.Namespace) -> dict[str, str]:
    """The batch settings given as options; none given, the connector's defaults (what a user gets)."""
    given = {"LRS_BATCH_SIZE": args.lrs_batch_given, "WORKER_BATCH_SIZE": args.worker_batch_given}
    return {name: str(value) for name, value in given.items() if value is not None}


def settings_origin(args: argparse.Namespace) -> str:
    given = batch_env(args)
    return "as given: " + ", ".join(f"{k}={v}" for k, v in given.items()) if given else "the defaults a user gets"


def resolve_batches(args: argparse.Namespace) -> None:
    """args.lrs_batch and args.worker_batch: the values the connector uses with these options."""
    from chalicelib.settings import load_settings

    args.lrs_batch_given, args.worker_batch_given = args.lrs_batch, args.worker_batch
    settings = load_settings(batch_env(args))
    args.lrs_batch, args.worker_batch = settings.lrs_batch_size, settings.worker_batch_size


def enqueue(services, badges: list[dict]) -> float:
    messages = [QueueMessage(source="credly", kind="document", body={"data": badge}) for badge in badges]
    gc.collect()
    t0 = time.perf_counter()
    for message in messages:
        services.queue.send(message)
    return time.perf_counter() - t0


DRAINER, SENDER = "drainer thread", "sender thread"


def end_to_end(
    badges: list[dict], expected_ids: set[str], state_dir: Path, args: argparse.Namespace, round_: int = 0
) -> dict:
    from chalicelib.runtime import services

    with LrsProcess() as lrs, requests.Session() as session:
        session.headers["X-Experience-API-Version"] = XAPI_VERSION
        configure(delivery_env(state_dir, f"e2e-{round_}", lrs.endpoint, args))
        svc = services()
        enqueue_seconds = enqueue(svc, badges)
        depth_before = svc.queue.depth()
        drainer = svc.drainer()  # builds the worker too: start-up is not timed
        if args.sequential:
            drainer.stage = None  # one batch at a time, as before the pipelined drain
        if args.pipeline_depth:
            drainer.pipeline_depth = args.pipeline_depth
        split = Split()
        worker = svc.worker
        for obj, name, label in (
            (svc.queue, "receive", "outbox receive (SELECT+UPDATE, parse)"),
            (svc.queue, "ack", "outbox ack (1 DELETE txn per batch)"),
            (svc.queue, "depth", "outbox depth"),
            (worker.translator, "translate", "Translator.translate"),
            (worker.lrs, "prepare", "LrsClient.prepare (ids, encode)"),
            (worker.lrs, "send", "LrsClient.send (POSTs)"),
            (worker, "_remember_expiries", "remember expiries (1 store txn per batch)"),
            (svc.store, "increment", "store counters"),
            (svc.store, "flags", "store flags (SELECT per batch)"),
        ):
            split.wrap(obj, name, label)
        with frozen_heap(args), cpus_apart(args, lrs.pid):
            cpu0 = (cpu_seconds(), cpu_seconds(lrs.pid), machine_busy())
            t0 = time.perf_counter()
            drainer.run_until_idle(timeout=args.timeout)
            seconds = time.perf_counter() - t0
            cpu = cpu_used(cpu0, (cpu_seconds(), cpu_seconds(lrs.pid), machine_busy()))
        left = svc.queue.depth()
        dead = svc.store.count_dead_letters()
        counters = svc.store.counters()
        stored = count_stored(lrs, session)
    configure({})
    return {
        "enqueue_seconds": enqueue_seconds,
        "depth_before": depth_before,
        "seconds": seconds,
        "left": left,
        "dead": dead,
        "counters": counters,
        "stored": len(stored),
        "stored_distinct": len(set(stored)),
        "stored_match": set(stored) == expected_ids,
        "split": split,
        "cpu": cpu,
    }


def median_round(
    rounds: int, run_pair: Callable[[int], tuple[dict, dict]]
) -> tuple[dict, dict, list[tuple[float, float]]]:
    """Run (e2e, ceiling) `rounds` times, one after the other: the pair whose ratio (ceiling time over
    e2e time) is the median, and every round's two times. The machine's noise moves single runs by
    several hundredths; the median of alternating rounds much less."""
    pairs = [run_pair(i) for i in range(rounds)]
    times = [(e2e["seconds"], top["seconds"]) for e2e, top in pairs]
    median = sorted(range(rounds), key=lambda i: times[i][1] / times[i][0])[rounds // 2]
    return (*pairs[median], times)


def describe_rounds(times: list[tuple[float, float]]) -> str:
    """Every round's ratio, and its two times: on a shared machine both move, and the reader sees which."""
    if len(times) < 2:
        return ""
    ratios = " ".join(f"{top / e2e:.2f}" for e2e, top in times)
    seconds = " ".join(f"{e2e:.2f}/{top:.2f}" for e2e, top in times)
    return f"  rounds     ratios {ratios} (seconds e2e/ceiling {seconds}): the median round's figures follow"


def ceiling(statements: list[dict], batch: int, args: argparse.Namespace) -> dict:
    bodies = [
        json.dumps(statements[i : i + batch], separators=(",", ":"), ensure_ascii=False).encode()
        for i in range(0, len(statements), batch)
    ]
    headers = {"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"}
    with LrsProcess() as lrs, requests.Session() as session:
        statuses: dict[int, int] = defaultdict(int)
        with frozen_heap(args), cpus_apart(args, lrs.pid):
            cpu0 = (cpu_seconds(), cpu_seconds(lrs.pid), machine_busy())
            t0 = time.perf_counter()
            for body in bodies:
                statuses[session.post(lrs.statements_url, data=body, headers=headers, timeout=60).status_code] += 1
            seconds = time.perf_counter() - t0
            cpu = cpu_used(cpu0, (cpu_seconds(), cpu_seconds(lrs.pid), machine_busy()))
        session.headers["X-Experience-API-Version"] = XAPI_VERSION
        stored = len(count_stored(lrs, session))
    return {"seconds": seconds, "posts": len(bodies), "statuses": dict(statuses), "stored": stored, "cpu": cpu}


def webhooks(count: int, warmup: int, seed: int, state_dir: Path) -> dict:
    from chalice import Chalice
    from chalice.test import Client

    import app as connector_app
    from chalicelib.runtime import services

    notification = json.loads((FIXTURES / "webhook_badge_created.json").read_text(encoding="utf-8"))
    org = notification["organization_id"]
    token = "path-" + uuid.UUID(int=random.Random(seed).getrandbits(128)).hex
    configure(
        {"STATE_PATH": str(state_dir / "webhooks.sqlite"), "CREDLY_WEBHOOK_TOKEN": token, "CREDLY_ORG_ID": org}
    )  # LOCAL_WORKER unset: nothing drains during the run

    floor_app = Chalice("floor")

    @floor_app.route("/webhooks/credly/{token}", methods=["POST"])
    def floor_route(token: str) -> dict:
        return {"status": "ok"}

    rng = random.Random(seed + 1)
    moment = datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC)
    bodies = [
        json.dumps(
            {
                "id": credly_badges.random_uuid(rng),
                "organization_id": org,
                "event_type": "badge.created",
                "occurred_at": credly_badges.iso_millis(moment + timedelta(seconds=i)),
            }
        ).encode()
        for i in range(warmup + count)
    ]
    path = f"/webhooks/credly/{token}"
    headers = {"Content-Type": "application/json"}
    route_ms: list[float] = []
    floor_ms: list[float] = []
    statuses: dict[tuple[int, str], int] = defaultdict(int)
    clock = time.perf_counter
    with (
        Client(connector_app.app, stage_name="test", project_dir=str(ROOT)) as route,
        Client(floor_app, stage_name="test", project_dir=str(ROOT)) as floor,
    ):
        gc.collect()
        for i, body in enumerate(bodies):
            # Alternate which app goes first, so neither always follows the other.
            order = ((floor, floor_ms), (route, route_ms)) if i % 2 else ((route, route_ms), (floor, floor_ms))
            for client, sink in order:
                t0 = clock()
                response = client.http.post(path, body=body, headers=headers)
                elapsed = clock() - t0
                if i >= warmup:
                    sink.append(elapsed * 1000)
                    if client is route:
                        statuses[(response.status_code, json.loads(response.body).get("status", "?"))] += 1
        svc = services()
        depth = svc.queue.depth()
        drainer_started = svc._drainer is not None
    configure({})
    return {
        "route": sorted(route_ms),
        "floor": sorted(floor_ms),
        "statuses": dict(statuses),
        "depth": depth,
        "expected_depth": warmup + count,
        "drainer_started": drainer_started,
    }


def profile_drain(badges: list[dict], state_dir: Path, args: argparse.Namespace, top: int) -> str:
    from chalicelib.runtime import services

    with LrsProcess() as lrs:
        configure(delivery_env(state_dir, "profile", lrs.endpoint, args))
        svc = services()
        enqueue(svc, badges)
        drainer = svc.drainer()
        svc.worker  # noqa: B018 - built before profiling
        profiler = cProfile.Profile()
        with frozen_heap(args):
            t0 = time.perf_counter()
            profiler.enable()
            drainer.run_until_idle(timeout=args.timeout)
            profiler.disable()
            seconds = time.perf_counter() - t0
        left = svc.queue.depth()
    configure({})
    out = io.StringIO()
    out.write(
        f"  drain under cProfile: {seconds:.2f} s for {len(badges)} events ({left} left; "
        "profiling overhead included; the drainer thread only: the sender thread's POSTs are not in it)\n"
    )
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, ncalls, tottime, cumtime, callers)
    rows = [(key, value[1], value[2], value[3]) for key, value in stats.items()]
    for title, column in (("own time (tottime)", 2), ("cumulative time", 3)):
        out.write(f"  -- top {top} by {title}\n     {'calls':>8} {'own s':>7} {'cum s':>7}  function\n")
        for (path, line, name), calls, own, cum in sorted(rows, key=lambda r: r[column], reverse=True)[:top]:
            where = name if path == "~" else f"{_short(path)}:{line} {name}"
            out.write(f"     {calls:8d} {own:7.3f} {cum:7.3f}  {where}\n")
    return out.getvalue()


def _short(path: str) -> str:
    """A profile entry's file relative to the repository or site-packages."""
    for base in (str(ROOT) + os.sep, "site-packages" + os.sep):
        if base in path:
            return path.split(base, 1)[1]
    return os.path.basename(path)


# -- through the routes: chalice local, its drainer thread, a real LRS ---------------------------

OB2_FIXTURE = ROOT / "tests" / "fixtures" / "openbadges" / "ob2_assertion.json"
DIRECTORY = ROOT / "tests" / "fixtures" / "directory.csv"


def make_assertions(count: int, seed: int) -> list[dict]:
    """Distinct Open Badges 2.0 assertions from the fixture: ids, issue times and evidence vary,
    plaintext recipients cycle through the learner directory fixture; issued within the past
    year and valid for ten more, so each gives exactly one statement (earned)."""
    template = json.loads(OB2_FIXTURE.read_text(encoding="utf-8"))
    with DIRECTORY.open(encoding="utf-8", newline="") as f:
        emails = [row["email"] for row in csv.DictReader(f)]
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=365)
    documents = []
    for i in range(count):
        document = copy.deepcopy(template)
        issued = start + timedelta(seconds=rng.randrange(360 * 24 * 3600))
        document["id"] = f"https://badges.example.org/assertions/{credly_badges.random_uuid(rng)}"
        document["recipient"] = {"type": "email", "hashed": False, "identity": emails[i % len(emails)]}
        document["issuedOn"] = issued.isoformat()
        document["expires"] = (issued + timedelta(days=3650)).isoformat()
        document["evidence"] = [{"id": f"https://lms.example.org/capstones/{i}", "narrative": "Capstone project"}]
        documents.append(document)
    return documents


def routes_env(args: argparse.Namespace) -> dict[str, str]:
    return {**batch_env(args), "LEARNER_DIRECTORY": str(DIRECTORY)}


def translate_assertions(documents: list[dict], args: argparse.Namespace) -> tuple[list[dict], dict]:
    """The statements the connector makes of them (the ceiling's input and the expected ids),
    and per-document costs on the way: intake's read (which parses the document into events)
    and the worker's translation of those events, as they come off the queue."""
    from chalicelib.platforms.openbadges.adapter import OpenBadgesAdapter
    from chalicelib.platforms.openbadges.webhook import read_delivery

    settings = load_settings({**routes_env(args), "LRS_ENDPOINT": "http://127.0.0.1:1/xAPI/"})
    translator = Translator(settings)
    translator.translate("openbadges", copy.deepcopy(documents[0]))  # warm
    statements: list[dict] = []
    gc.collect()
    t0 = time.perf_counter()
    for document in documents:
        statements.extend(translator.translate("openbadges", document).statements)
    translate_s = time.perf_counter() - t0
    verbs = {s["verb"]["id"] for s in statements}
    if len(statements) != len(documents) or verbs != {EARNED}:
        raise SystemExit(f"setup error: {len(documents)} assertions gave {len(statements)} statements, verbs {verbs}")
    adapter = OpenBadgesAdapter()
    t0 = time.perf_counter()
    for document in documents:
        adapter.parse(document)
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    items = [
        item
        for start in range(0, len(documents), args.routes_array)
        for item in read_delivery(documents[start : start + args.routes_array], settings).items
    ]
    read_s = time.perf_counter() - t0
    queued = [[event.model_dump(mode="json") for event in item.events] for item in items]
    t0 = time.perf_counter()
    for events in queued:
        translator.translate_event(events)
    events_s = time.perf_counter() - t0
    costs = {"translate": translate_s, "parse": parse_s, "read_delivery": read_s, "translate_event": events_s}
    return statements, costs


def routes_e2e(documents: list[dict], expected_ids: set[str], args: argparse.Namespace) -> dict:
    """POST the documents to /ingest/openbadges of a running `chalice local` (tools/devstack.py's
    Stack: LOCAL_WORKER=true, its worker process drains the outbox) in arrays, then
    poll the outbox until it is empty."""
    from devstack import Stack, children_of

    configure(routes_env(args))  # the stack's child process inherits os.environ (logs: to a file)
    bodies = [
        json.dumps(documents[i : i + args.routes_array]).encode() for i in range(0, len(documents), args.routes_array)
    ]
    warm = make_assertions(1, args.seed + 7)  # one untimed round trip first: worker and LRS client built
    statuses: dict[int, int] = defaultdict(int)
    with Stack() as stack, requests.Session() as kept_alive:
        # A new connection per request, as webhook senders mostly do: on a kept-alive connection
        # chalice local's server (headers and body written apart, Nagle on) waits for the
        # client's delayed ACK, ~40 ms an answer. --routes-keepalive measures that way.
        http = kept_alive if args.routes_keepalive else requests
        url = f"{stack.url}/ingest/openbadges"
        headers = {
            "Authorization": f"Bearer {stack.secrets['OPENBADGES_INGEST_TOKEN']}",
            "Content-Type": "application/json",
        }
        http.post(url, data=json.dumps(warm).encode(), headers=headers, timeout=60).raise_for_status()
        # Read from the stack's outbox itself: GET /health/details would ask the LRS on every poll.
        outbox = LocalOutbox(stack.state_path)

        def depth() -> int | None:
            return outbox.depth()

        while depth() != 0:
            time.sleep(0.05)
        gc.collect()
        pids = (stack._proc.pid if stack._proc else None, stack.lrs.pid, os.getpid())
        connector = (pids[0], *children_of(pids[0])) if pids[0] else ()
        with cpus_apart(args, stack.lrs.pid, connector):
            cpu0 = (tree_cpu_seconds(pids[0]), *(cpu_seconds(pid) for pid in pids[1:]), machine_busy())
            t0 = time.perf_counter()
            for body in bodies:
                statuses[http.post(url, data=body, headers=headers, timeout=120).status_code] += 1
            ingest_seconds = time.perf_counter() - t0
            polls = 0
            while depth() != 0:
                polls += 1
                time.sleep(args.routes_poll)
            seconds = time.perf_counter() - t0
            cpu = cpu_used(cpu0, (tree_cpu_seconds(pids[0]), *(cpu_seconds(pid) for pid in pids[1:]), machine_busy()))
        cpu = (cpu[0], cpu[1], None if None in cpu else cpu[3] - cpu[2])  # the bench's own CPU is not "other"
        health = http.get(
            f"{stack.url}/health/details",
            timeout=60,
            headers={"Authorization": f"Bearer {stack.secrets['STATUS_TOKEN']}"},
        ).json()["checks"]
        kept_alive.headers["X-Experience-API-Version"] = XAPI_VERSION
        stored = count_stored(stack.lrs, kept_alive)
    configure({})
    stored_set = set(stored) - {s for s in stored if s not in expected_ids}  # minus the warm-up one
    return {
        "seconds": seconds,
        "ingest_seconds": ingest_seconds,
        "posts": len(bodies),
        "statuses": dict(statuses),
        "polls": polls,
        "cpu": cpu,
        "dead": health.get("dead_letters"),
        "counters": health.get("counters"),
        "stored": len(stored),
        "stored_expected": len(stored_set),
        "stored_match": stored_set == expected_ids and len(stored) == len(expected_ids) + 1,
    }


def routes_profile(documents: list[dict], state_dir: Path, args: argparse.Namespace, top: int) -> str:
    """cProfile of the same work in-process (Chalice test client, LOCAL_WORKER unset), in two
    parts so that each is attributed: the route handling every array, then the drain."""
    from chalice.test import Client

    import app as connector_app
    from chalicelib.runtime import services

    token = "ob-" + uuid.uuid4().hex
    bodies = [
        json.dumps(documents[i : i + args.routes_array]).encode() for i in range(0, len(documents), args.routes_array)
    ]
    out = io.StringIO()
    with LrsProcess() as lrs:
        configure(
            {
                **routes_env(args),
                "STATE_PATH": str(state_dir / "routes-profile.sqlite"),
                "LRS_ENDPOINT": lrs.endpoint,
                "OPENBADGES_INGEST_TOKEN": token,
            }
        )
        svc = services()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with Client(connector_app.app, stage_name="test", project_dir=str(ROOT)) as client:
            warm = json.dumps(make_assertions(1, args.seed + 7)).encode()
            client.http.post("/ingest/openbadges", body=warm, headers=headers)
            svc.drainer().run_until_idle(timeout=args.timeout)  # worker and drainer built, not profiled
            for title, work in (
                (
                    "routes: POST /ingest/openbadges",
                    lambda: [client.http.post("/ingest/openbadges", body=b, headers=headers) for b in bodies],
                ),
                (
                    "drain: drainer.run_until_idle (drainer thread; the sender thread's POSTs are not in it)",
                    lambda: svc.drainer().run_until_idle(timeout=args.timeout),
                ),
            ):
                profiler = cProfile.Profile()
                gc.collect()
                t0 = time.perf_counter()
                profiler.enable()
                work()
                profiler.disable()
                seconds = time.perf_counter() - t0
                out.write(f"  {title}: {seconds:.2f} s under cProfile for {len(documents)} documents\n")
                out.write(_profile_table(profiler, top, seconds))
        left = svc.queue.depth()
    configure({})
    out.write(f"  (outbox left: {left})\n")
    return out.getvalue()


def routes_split(documents: list[dict], state_dir: Path, args: argparse.Namespace) -> str:
    """Unprofiled, in-process (Chalice test client, LOCAL_WORKER unset): the routes handle every
    array first, then the outbox is drained (pipelined) against a fresh LRS; time inside each is
    split by wrapping functions (~1 us per call added), so the two parses can be compared."""
    from chalice.test import Client

    import app as connector_app
    import chalicelib.intake.webhooks as intake_webhooks
    import chalicelib.platforms.openbadges.webhook as ob_webhook
    from chalicelib.platforms.openbadges.adapter import OpenBadgesAdapter
    from chalicelib.runtime import services

    token = "ob-" + uuid.uuid4().hex
    bodies = [
        json.dumps(documents[i : i + args.routes_array]).encode() for i in range(0, len(documents), args.routes_array)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n = len(documents)
    out = io.StringIO()
    saved: list[tuple[object, str, object]] = []

    def wrap_attr(owner: object, name: str, label: str, split: Split) -> None:
        saved.append((owner, name, getattr(owner, name)))
        split.wrap(owner, name, label)

    with LrsProcess() as lrs:
        configure(
            {
                **routes_env(args),
                "STATE_PATH": str(state_dir / "routes-split.sqlite"),
                "LRS_ENDPOINT": lrs.endpoint,
                "OPENBADGES_INGEST_TOKEN": token,
            }
        )
        svc = services()
        try:
            with Client(connector_app.app, stage_name="test", project_dir=str(ROOT)) as client:
                client.http.post(
                    "/ingest/openbadges", body=json.dumps(make_assertions(1, args.seed + 7)).encode(), headers=headers
                )
                svc.drainer().run_until_idle(timeout=args.timeout)  # everything built before the clocks
                intake, drain = Split(), Split()
                parse = OpenBadgesAdapter.parse
                reader = intake_webhooks.webhook_reader

                def timed_reader(name: str):
                    read = reader(name)

                    def read_delivery(body, settings):
                        t0 = time.perf_counter()
                        try:
                            return read(body, settings)
                        finally:
                            intake.seconds["read_delivery (check_shape, content_key)"] += time.perf_counter() - t0
                            intake.calls["read_delivery (check_shape, content_key)"] += 1

                    return read_delivery

                for owner, name, label in (
                    (intake_webhooks, "read_json", "read_json (the request body)"),
                    (ob_webhook, "check_shape", "check_shape (OpenBadgesAdapter.parse + input checks)"),
                    (ob_webhook, "content_key", "content_key (sorted json.dumps + sha256)"),
                    (OpenBadgesAdapter, "parse", "OpenBadgesAdapter.parse"),
                    (svc.queue, "send_many", "LocalOutbox.send_many (1 txn per array)"),
                    (svc.store, "seen_deliveries", "store.seen_deliveries (1 SELECT per array)"),
                    (svc.store, "claim_deliveries", "store.claim_deliveries (1 txn per array)"),
                ):
                    wrap_attr(owner, name, label, intake)
                saved.append((intake_webhooks, "webhook_reader", reader))
                intake_webhooks.webhook_reader = timed_reader
                with frozen_heap(args):
                    t0 = time.perf_counter()
                    for body in bodies:
                        client.http.post("/ingest/openbadges", body=body, headers=headers)
                    intake_seconds = time.perf_counter() - t0
                OpenBadgesAdapter.parse = parse  # type: ignore[method-assign]
                worker = svc.worker
                drain_labels = (
                    (svc.queue, "receive", "outbox receive (SELECT+UPDATE, parse)"),
                    (worker.translator, "translate", "Translator.translate"),
                    (worker.translator.adapter("openbadges"), "parse", "  of which OpenBadgesAdapter.parse"),
                    (worker.lrs, "prepare", "LrsClient.prepare (ids, encode)"),
                    (svc.queue, "ack", "outbox ack (1 DELETE txn per batch)"),
                    (worker, "_remember_expiries", "remember expiries (1 store txn per batch)"),
                    (worker.lrs, "send", "LrsClient.send (POSTs; sender thread)"),
                )
                for owner, name, label in drain_labels:
                    wrap_attr(owner, name, label, drain)
                with frozen_heap(args):
                    cpu0 = cpu_seconds()
                    t0 = time.perf_counter()
                    svc.drainer().run_until_idle(timeout=args.timeout)
                    drain_seconds = time.perf_counter() - t0
                    drain_cpu = None if cpu0 is None else cpu_seconds() - cpu0
        finally:
            for owner, name, original in reversed(saved):
                setattr(owner, name, original)
        left = svc.queue.depth()
    configure({})
    out.write(
        f"  routes (test client, one thread): {intake_seconds:.2f} s for {n} documents = "
        f"{intake_seconds / n * 1e6:.0f} us/document\n"
    )
    for label in sorted(intake.seconds, key=intake.seconds.get, reverse=True):
        out.write(
            f"     {label:58s} {intake.seconds[label] / n * 1e6:6.0f} us/doc "
            f"{intake.seconds[label] / intake_seconds:6.1%}  ({intake.calls[label]} calls)\n"
        )
    out.write(
        f"  drain (pipelined, fresh LRS): {drain_seconds:.2f} s = {drain_seconds / n * 1e6:.0f} us/document"
        + (f"; process CPU {drain_cpu:.2f} s" if drain_cpu is not None else "")
        + f"; left {left}\n"
    )
    for label in (label for _, _, label in drain_labels if label in drain.seconds):
        out.write(
            f"     {label:58s} {drain.seconds[label] / n * 1e6:6.0f} us/doc {drain.seconds[label] / drain_seconds:6.1%}"
            f"  ({drain.calls[label]} calls)\n"
        )
    return out.getvalue()


# Where a document's time goes, by function (cumulative, so nested entries overlap).
ROUTE_SPOTS = (
    ("openbadges/adapter.py", "parse", "OpenBadgesAdapter.parse (the document parsed)"),
    ("common.py", "check_shape", "check_shape (intake: adapter.parse to refuse bad input)"),
    ("common.py", "content_key", "content_key (sorted json.dumps + sha256)"),
    ("intake/http.py", "read_json", "read_json (request body)"),
    ("queue/local.py", "send_many", "LocalOutbox.send_many (1 txn per array)"),
    ("intake/enqueue.py", "_mark_seen", "Enqueuer._mark_seen (1 claim txn per array)"),
    ("delivery/translation.py", "translate", "Translator.translate (parse + build + validate)"),
    ("xapi/validate.py", "validate_statement", "validate_statement"),
    ("queue/local.py", "receive", "LocalOutbox.receive (incl. QueueMessage parse)"),
    ("xapi/lrs.py", "prepare", "LrsClient.prepare (encode)"),
)


def _profile_table(profiler: cProfile.Profile, top: int, seconds: float) -> str:
    stats = pstats.Stats(profiler).stats
    out = io.StringIO()
    for suffix, name, label in ROUTE_SPOTS:
        hits = [(v[1], v[3]) for (path, _, fn), v in stats.items() if fn == name and path.endswith(suffix)]
        if hits:
            calls, cum = sum(h[0] for h in hits), sum(h[1] for h in hits)
            out.write(f"     {label:62s} {cum:7.3f} s {cum / seconds:6.1%}  ({calls} calls)\n")
    rows = sorted(((k, v[1], v[2], v[3]) for k, v in stats.items()), key=lambda r: r[2], reverse=True)[:top]
    out.write(f"     -- top {top} by own time\n")
    for (path, line, name), calls, own, cum in rows:
        where = name if path == "~" else f"{_short(path)}:{line} {name}"
        out.write(f"     {calls:8d} {own:7.3f} {cum:7.3f}  {where}\n")
    return out.getvalue()


def report_delivery(
    args: argparse.Namespace,
    n: int,
    gen_seconds: float,
    translate_seconds: float,
    e2e: dict,
    top: dict,
    hooks: dict,
    profile: str | None,
    ratios: list[tuple[float, float]],
) -> None:
    e2e_rate, top_rate = n / e2e["seconds"], n / top["seconds"]
    split: Split = e2e["split"]
    posts_e2e = sum(-(-min(args.worker_batch, n - i) // args.lrs_batch) for i in range(0, n, args.worker_batch))

    print(f"  -- outbox -> worker -> LRS: N={n} Credly badges (seed {args.seed}, generated in {gen_seconds:.2f} s)")
    print(
        f"  LRS_BATCH_SIZE={args.lrs_batch} (statements per POST), WORKER_BATCH_SIZE={args.worker_batch} "
        f"(messages per Worker.process): {posts_e2e} POSTs either way ({settings_origin(args)})"
        + ("; the LRS on a CPU of its own (--cpus-apart)" if args.cpus_apart else "")
    )
    print("  -- delivery (each phase on a fresh LRS)")
    print(
        f"  translate  Translator.translate x{n}  {translate_seconds:8.2f} s  "
        f"{n / translate_seconds:9,.0f} statements/s  ({translate_seconds / n * 1e6:.0f} us/event)"
    )
    print(
        f"  enqueue    LocalOutbox.send x{n}     {e2e['enqueue_seconds']:8.2f} s  "
        f"{n / e2e['enqueue_seconds']:9,.0f} messages/s  ({e2e['enqueue_seconds'] / n * 1e6:.0f} us/message)"
    )
    if describe_rounds(ratios):
        print(describe_rounds(ratios))
    print(f"  e2e        drainer.run_until_idle    {e2e['seconds']:8.2f} s  {e2e_rate:9,.0f} statements/s")
    print(
        f"  ceiling    requests.Session POSTs    {top['seconds']:8.2f} s  {top_rate:9,.0f} statements/s"
        f"  ({top['posts']} POSTs, statuses {top['statuses']})"
    )
    print(
        f"  RATIO      connector delivers at {e2e_rate / top_rate:.2f}x the LRS's own ceiling "
        f"(e2e time = {e2e['seconds'] / top['seconds']:.2f}x ceiling time)"
    )
    print(
        f"  cpu        e2e: {describe_cpu(e2e['cpu'], e2e['seconds'], 'python (all threads)')}; "
        f"ceiling: {describe_cpu(top['cpu'], top['seconds'], 'python')}"
    )
    mode = (
        "batch by batch (--sequential)"
        if args.sequential
        else "pipelined: the sender thread POSTs while the drainer thread works"
    )
    print(f"  -- where the drain's time goes ({mode}; wrapped methods, % of the e2e wall time)")
    sender_labels = {"LrsClient.send (POSTs)"}
    for thread, labels in (
        (DRAINER, [k for k in split.seconds if k not in sender_labels]),
        (SENDER, [k for k in split.seconds if k in sender_labels]),
    ):
        if args.sequential and thread == SENDER:
            thread = DRAINER + " (cont.)"
        busy = sum(split.seconds[k] for k in labels)
        rest = e2e["seconds"] - busy
        print(
            f"     {thread}: busy {busy:.2f} s ({busy / e2e['seconds']:.1%})"
            + ("" if thread == SENDER else f"; rest (glue, logs, waiting for the sender) {rest:.2f} s")
        )
        for label in sorted(labels, key=split.seconds.get, reverse=True):
            share = split.seconds[label] / e2e["seconds"]
            print(f"       {label:40s} {split.seconds[label]:8.2f} s  {share:6.1%}  ({split.calls[label]} calls)")
    lrs_send = split.seconds["LrsClient.send (POSTs)"]
    print(
        f"     LrsClient.send / ceiling time = {lrs_send / top['seconds']:.2f}x "
        f"(the sender is idle {max(0.0, e2e['seconds'] - lrs_send):.2f} s of the drain)"
    )
    ok = (
        e2e["left"] == 0
        and e2e["dead"] == 0
        and e2e["stored"] == n
        and e2e["stored_distinct"] == n
        and e2e["stored_match"]
        and top["stored"] == n
    )
    print(
        f"  verify     {'OK' if ok else 'MISMATCH'}: enqueued {e2e['depth_before']}, left in outbox {e2e['left']}, "
        f"dead letters {e2e['dead']}; e2e LRS holds {e2e['stored']} earned statements "
        f"({e2e['stored_distinct']} distinct, "
        f"{'= the expected ids' if e2e['stored_match'] else 'NOT the expected ids'}); "
        f"ceiling LRS holds {top['stored']}; counters {e2e['counters']}"
    )

    route, floor = hooks["route"], hooks["floor"]
    r_med, f_med = statistics.median(route), statistics.median(floor)
    r_p99, f_p99 = percentile(route, 99), percentile(floor, 99)
    print(
        f"  -- webhook acknowledgement, Chalice test client, in-process ({len(route)} requests per app, "
        f"{args.warmup} warm-up each not counted)"
    )
    print(f"  floor      bare Chalice no-op route       median {f_med:6.3f} ms   p99 {f_p99:6.3f} ms")
    print(
        f"  route      POST /webhooks/credly/{{token}}  median {r_med:6.3f} ms   p99 {r_p99:6.3f} ms   "
        f"(mean {statistics.fmean(route):.3f} ms, max {route[-1]:.2f} ms)"
    )
    print(
        f"  RATIO      route / floor: median {r_med / f_med:.2f}x, p99 {r_p99 / f_p99:.2f}x "
        f"(route adds {r_med - f_med:.3f} ms at the median)"
    )
    answers = ", ".join(f"{status} {body} x{k}" for (status, body), k in sorted(hooks["statuses"].items()))
    print(
        f"  verify     answers: {answers}; outbox depth {hooks['depth']} (expected {hooks['expected_depth']}); "
        f"drainer started: {hooks['drainer_started']}"
    )
    if profile:
        print("  -- profile")
        print(profile.rstrip())


def describe_cpu(cpu: tuple, seconds: float, who: str) -> str:
    """CPU seconds of the connector's process and the LRS over a phase, how busy each was, and
    what the rest of the machine used meanwhile (noise: more than a few % makes a run suspect)."""
    if None in cpu:
        return "n/a"
    mine, lrs, machine = cpu
    others = max(0.0, machine - mine - lrs)
    return (
        f"{who} {mine:.2f} s CPU ({mine / seconds:.0%} of a core), LRS {lrs:.2f} s ({lrs / seconds:.0%}), "
        f"other processes {others:.2f} s ({others / seconds:.0%})"
    )


def report_routes(
    args: argparse.Namespace,
    routes: dict,
    top: dict,
    costs: dict,
    profile: str | None,
    ratios: list[tuple[float, float]],
) -> None:
    n = args.routes_docs
    rate, top_rate = n / routes["seconds"], n / top["seconds"]
    print(
        f"  -- through the routes: {n} Open Badges 2.0 assertions POSTed to /ingest/openbadges in arrays of "
        f"{args.routes_array}, chalice local (tools/devstack.py Stack: LOCAL_WORKER: its worker process drains "
        f"the outbox) + LRS; timed until the outbox is empty (its depth read every {args.routes_poll * 1000:.0f} ms); "
        + ("one kept-alive connection" if args.routes_keepalive else "a new connection per request")
        + f"; LRS_BATCH_SIZE={args.lrs_batch}, WORKER_BATCH_SIZE={args.worker_batch} ({settings_origin(args)})"
        + ("; the LRS on a CPU of its own, the connector on the others (--cpus-apart)" if args.cpus_apart else "")
    )
    if describe_rounds(ratios):
        print(describe_rounds(ratios))
    print(
        f"  ingest     {routes['posts']} POSTs answered        {routes['ingest_seconds']:8.2f} s  "
        f"{n / routes['ingest_seconds']:9,.0f} documents/s  (the drainer already working meanwhile)"
    )
    print(
        f"  e2e        until the queue is empty   {routes['seconds']:8.2f} s  {rate:9,.0f} statements/s  "
        f"({routes['seconds'] - routes['ingest_seconds']:.2f} s after the last POST was answered)"
    )
    print(
        f"  ceiling    requests.Session POSTs     {top['seconds']:8.2f} s  {top_rate:9,.0f} statements/s"
        f"  ({top['posts']} POSTs of the same statements, statuses {top['statuses']})"
    )
    print(
        f"  cpu        e2e: {describe_cpu(routes['cpu'], routes['seconds'], 'chalice local + its worker process')}; "
        f"ceiling: {describe_cpu(top['cpu'], top['seconds'], 'python')}"
    )
    print(
        f"RATIO routes e2e: connector delivers at {rate / top_rate:.2f}x the LRS's own ceiling "
        f"(e2e time = {routes['seconds'] / top['seconds']:.2f}x ceiling time)"
    )
    print(
        f"  per document, in-process, one thread: intake read_delivery {costs['read_delivery'] / n * 1e6:.0f} us "
        f"(of which OpenBadgesAdapter.parse {costs['parse'] / n * 1e6:.0f} us), worker Translator.translate_event "
        f"{costs['translate_event'] / n * 1e6:.0f} us (the events intake read; a document from scratch: "
        f"{costs['translate'] / n * 1e6:.0f} us); ceiling {top['seconds'] / n * 1e6:.0f} us per statement"
    )
    ok = (
        routes["dead"] == 0
        and routes["stored_match"]
        and top["stored"] == n
        and routes["statuses"] == {202: routes["posts"]}
    )
    print(
        f"  verify     {'OK' if ok else 'MISMATCH'}: answers {routes['statuses']}; dead letters {routes['dead']}; "
        f"LRS holds {routes['stored']} earned statements ({routes['stored_expected']} of the {n} expected, "
        f"+1 warm-up); ceiling LRS holds {top['stored']}; counters {routes['counters']}"
    )
    if profile:
        print("  -- routes, in-process: where a document's time goes (wrapped functions, then cProfile)")
        print(profile.rstrip())


# -- report --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="badges delivered end to end")
    parser.add_argument(
        "--lrs-batch", type=int, default=None, help="LRS_BATCH_SIZE (statements per POST; default: the connector's)"
    )
    parser.add_argument(
        "--worker-batch",
        type=int,
        default=None,
        help="WORKER_BATCH_SIZE (messages per Worker.process call; default: the connector's)",
    )
    parser.add_argument("--webhooks", type=int, default=2_000, help="timed webhook requests per app")
    parser.add_argument("--warmup", type=int, default=50, help="untimed webhook requests per app first")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--timeout", type=float, default=1800.0, help="run_until_idle timeout, seconds")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="drain batch by batch (no sender thread), to compare with the pipelined drain",
    )
    parser.add_argument(
        "--pipeline-depth",
        type=int,
        default=0,
        help="batches received and not yet settled (default: the drainer's own, 2)",
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0.0,
        help="sys.setswitchinterval for the run (seconds; default: Python's, 0.005)",
    )
    parser.add_argument(
        "--no-gc-freeze", action="store_true", help="leave the bench's own data in the cyclic GC's reach while timing"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile one drain (fresh LRS)")
    parser.add_argument("--profile-events", type=int, default=None, help="events for --profile (default N)")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--show-logs", action="store_true", help="let the connector's log lines through")
    parser.add_argument(
        "--routes-docs",
        type=int,
        default=6_000,
        help="Open Badges assertions POSTed through the routes of chalice local (0: skip)",
    )
    parser.add_argument("--routes-array", type=int, default=200, help="assertions per POST /ingest/openbadges")
    parser.add_argument("--routes-poll", type=float, default=0.02, help="seconds between reads of the outbox depth")
    parser.add_argument(
        "--routes-keepalive",
        action="store_true",
        help="POST and poll over one kept-alive connection (chalice local then adds ~40 ms an answer)",
    )
    parser.add_argument(
        "--routes-profile",
        action="store_true",
        help="also cProfile the routes path in-process (test client): intake, then drain",
    )
    parser.add_argument("--only-routes", action="store_true", help="skip the outbox, ceiling and webhook phases")
    parser.add_argument(
        "--cpus-apart",
        action="store_true",
        help="timed phases with the LRS on the first CPU and the connector (and this process) on the others, "
        "as with an LRS on a machine of its own (Linux; 2 CPUs or more)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="e2e + ceiling pairs per ratio (outbox and routes); the median round is reported",
    )
    args = parser.parse_args(argv)
    resolve_batches(args)
    if args.cpus_apart and (not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2):
        parser.error("--cpus-apart needs Linux and at least 2 CPUs")
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    n = args.events
    saved_env = {name: os.environ[name] for name in SETTING_NAMES if name in os.environ}
    if not args.show_logs:
        silence_connector_logs()

    t0 = time.perf_counter()
    badges = make_badges(n, args.seed)
    gen_seconds = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        state_dir = Path(tmp)
        e2e = top = hooks = profile = routes = routes_top = routes_costs = routes_prof = translate_seconds = None
        e2e_ratios = routes_ratios = []
        if not args.only_routes:
            translate_seconds, statements = translate_all(
                badges, delivery_env(state_dir, "x", "http://127.0.0.1:1/xAPI/", args)
            )
            expected_ids = {s["id"] for s in statements}
            e2e, top, e2e_ratios = median_round(
                args.rounds,
                lambda i: (
                    end_to_end(badges, expected_ids, state_dir, args, i),
                    ceiling(statements, args.lrs_batch, args),
                ),
            )
            hooks = webhooks(args.webhooks, args.warmup, args.seed, state_dir)
            if args.profile:
                profile = profile_drain(badges[: args.profile_events or n], state_dir, args, args.profile_top)
        if args.routes_docs:
            documents = make_assertions(args.routes_docs, args.seed)
            routes_statements, routes_costs = translate_assertions(documents, args)
            expected = {s["id"] for s in routes_statements}
            routes, routes_top, routes_ratios = median_round(
                args.rounds,
                lambda i: (routes_e2e(documents, expected, args), ceiling(routes_statements, args.lrs_batch, args)),
            )
            if args.routes_profile:
                routes_prof = routes_split(documents, state_dir, args) + routes_profile(
                    documents, state_dir, args, args.profile_top
                )
    for name in SETTING_NAMES:
        os.environ.pop(name, None)
    os.environ.update(saved_env)

    command = shlex.join([os.path.relpath(sys.executable), *sys.argv])
    print(f"delivery_throughput: {command}")
    print(f"  python {sys.version.split()[0]}, node LRS xapi-statements (memory), {os.cpu_count()} CPUs")
    if e2e is not None:
        report_delivery(args, n, gen_seconds, translate_seconds, e2e, top, hooks, profile, e2e_ratios)
    if routes is not None:
        report_routes(args, routes, routes_top, routes_costs, routes_prof, routes_ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
