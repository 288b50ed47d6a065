"""Outbox -> worker -> LRS delivery, against the LRS's own ceiling; webhook acknowledgement time.

    python bench/delivery_throughput.py [--events 10000] [--lrs-batch 50] [--worker-batch 50]
                                        [--webhooks 2000] [--seed 20261128] [--profile]

Generates N distinct Credly badges from tests/fixtures/credly/badges_page_1.json (fixed seed;
state "pending" and no expiry before now, so each gives exactly one "earned" statement), then
measures in the same run:

  translate  Translator.translate("credly", {"data": badge}) for each badge, translator built
             once (these statements are the ceiling's input and the expected ids)
  enqueue    LocalOutbox.send of N QueueMessage(source="credly", kind="document") into the
             outbox of a fresh services() (SQLite in a temp dir)
  e2e        services().drainer().run_until_idle() until the outbox is empty, against a fresh
             in-memory Learning Locker (tools/lrs_process.py); worker and drainer built before
             the clock starts. Afterwards the LRS is queried (verb=earned, limit=500, following
             `more`) to check that exactly the N expected statement ids are stored, and the dead
             letters are counted. Time inside the drain is split by wrapping instance methods
             (outbox receive/ack, translate, LrsClient.send, store): ~1 us per call added.
  ceiling    the same statements POSTed by a plain requests.Session, in batches of LRS_BATCH_SIZE,
             sequentially, to another fresh LRS (bodies encoded before the clock starts)
  webhook    POST /webhooks/credly/{token} through the Chalice test client (thin notifications,
             distinct ids, LOCAL_WORKER unset: enqueue only), each request timed; floor: the same
             test client on a bare Chalice app with one no-op POST route. Requests to the two
             apps alternate, after a few warm-up requests to each that are not counted.

Prints figures, never pass/fail; exits 0. RATIOS are the numbers to compare across machines:
e2e / ceiling (the LRS is measured on the same machine, in the same run) and route / floor.
The connector's JSON log lines are formatted as usual but written to /dev/null (--show-logs
to keep them). --profile adds a cProfile of one more drain (fresh LRS) and prints hot spots.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import io
import json
import logging
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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT, ROOT / "tools"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import requests  # noqa: E402

from chalicelib.queue import QueueMessage  # noqa: E402
from chalicelib.settings import Settings, load_settings  # noqa: E402
from chalicelib.delivery.translation import Translator  # noqa: E402
from lrs_process import XAPI_VERSION, LrsProcess  # noqa: E402

import credly_badges  # noqa: E402  (bench/ is on sys.path when run as a script)

FIXTURES = ROOT / "tests" / "fixtures" / "credly"
EARNED = "http://specification.openbadges.org/xapi/verbs/earned"
SETTING_NAMES = {name.upper() for name in Settings.model_fields}

def make_badges(count: int, seed: int) -> list[dict]:
    """Pending badges issued in 2024-2025; a quarter never expire, the rest 10 years after issue,
    so none has expired and each gives exactly one statement (earned)."""
    return credly_badges.make_badges(count, seed, start=datetime(2024, 1, 1, tzinfo=timezone.utc),
                                     spread_days=2 * 365, expiry_days=(3650,), vary_templates=False, state="pending")


# -- environment and helpers ---------------------------------------------------------------------

def configure(env: dict[str, str]) -> None:
    """Exactly these connector settings in os.environ (every other one unset), fresh services()."""
    from chalicelib.runtime import services

    for name in SETTING_NAMES:
        os.environ.pop(name, None)
    os.environ.update(env)
    services.cache_clear()


def silence_connector_logs() -> None:
    """Keep the log calls (json.dumps of each line) but write the lines to /dev/null."""
    from chalicelib.observability import logger

    logger()
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger("connector").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


class Split:
    """Wall time and calls per wrapped method (instance attributes only: chalicelib unchanged)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, obj: object, name: str, label: str) -> None:
        original = getattr(obj, name)
        seconds, calls, clock = self.seconds, self.calls, time.perf_counter

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += clock() - t0
                calls[label] += 1

        setattr(obj, name, timed)


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
    now = datetime.now(timezone.utc)
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
        "LRS_BATCH_SIZE": str(args.lrs_batch),
        "WORKER_BATCH_SIZE": str(args.worker_batch),
    }


def enqueue(services, badges: list[dict]) -> float:
    messages = [QueueMessage(source="credly", kind="document", body={"data": badge}) for badge in badges]
    gc.collect()
    t0 = time.perf_counter()
    for message in messages:
        services.queue.send(message)
    return time.perf_counter() - t0


def end_to_end(badges: list[dict], expected_ids: set[str], state_dir: Path, args: argparse.Namespace) -> dict:
    from chalicelib.runtime import services

    with LrsProcess() as lrs, requests.Session() as session:
        session.headers["X-Experience-API-Version"] = XAPI_VERSION
        configure(delivery_env(state_dir, "e2e", lrs.endpoint, args))
        svc = services()
        enqueue_seconds = enqueue(svc, badges)
        depth_before = svc.queue.depth()
        drainer = svc.drainer()  # builds the worker too: start-up is not timed
        split = Split()
        worker = svc.worker
        for obj, name, label in (
            (svc.queue, "receive", "outbox receive (SELECT+UPDATE, parse)"),
            (svc.queue, "ack", "outbox ack (1 DELETE txn per message)"),
            (svc.queue, "depth", "outbox depth"),
            (worker.translator, "translate", "Translator.translate"),
            (worker.lrs, "send", "LrsClient.send (encode + POST)"),
            (svc.store, "increment", "store counters"),
            (svc.store, "flags", "store flags (SELECT per batch)"),
        ):
            split.wrap(obj, name, label)
        gc.collect()
        t0 = time.perf_counter()
        drainer.run_until_idle(timeout=args.timeout)
        seconds = time.perf_counter() - t0
        left = svc.queue.depth()
        dead = svc.store.count_dead_letters()
        counters = svc.store.counters()
        stored = count_stored(lrs, session)
    configure({})
    return {
        "enqueue_seconds": enqueue_seconds, "depth_before": depth_before, "seconds": seconds,
        "left": left, "dead": dead, "counters": counters, "stored": len(stored),
        "stored_distinct": len(set(stored)), "stored_match": set(stored) == expected_ids, "split": split,
    }


def ceiling(statements: list[dict], batch: int) -> dict:
    bodies = [json.dumps(statements[i : i + batch], separators=(",", ":"), ensure_ascii=False).encode()
              for i in range(0, len(statements), batch)]
    headers = {"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"}
    with LrsProcess() as lrs, requests.Session() as session:
        statuses: dict[int, int] = defaultdict(int)
        gc.collect()
        t0 = time.perf_counter()
        for body in bodies:
            statuses[session.post(lrs.statements_url, data=body, headers=headers, timeout=60).status_code] += 1
        seconds = time.perf_counter() - t0
        session.headers["X-Experience-API-Version"] = XAPI_VERSION
        stored = len(count_stored(lrs, session))
    return {"seconds": seconds, "posts": len(bodies), "statuses": dict(statuses), "stored": stored}


def webhooks(count: int, warmup: int, seed: int, state_dir: Path) -> dict:
    from chalice import Chalice
    from chalice.test import Client

    import app as connector_app
    from chalicelib.runtime import services

    notification = json.loads((FIXTURES / "webhook_badge_created.json").read_text(encoding="utf-8"))
    org = notification["organization_id"]
    token = "path-" + uuid.UUID(int=random.Random(seed).getrandbits(128)).hex
    configure({"STATE_PATH": str(state_dir / "webhooks.sqlite"), "CREDLY_WEBHOOK_TOKEN": token,
               "CREDLY_ORG_ID": org})  # LOCAL_WORKER unset: nothing drains during the run

    floor_app = Chalice("floor")

    @floor_app.route("/webhooks/credly/{token}", methods=["POST"])
    def floor_route(token: str) -> dict:
        return {"status": "ok"}

    rng = random.Random(seed + 1)
    moment = datetime(2026, 11, 20, 14, 3, 11, tzinfo=timezone.utc)
    bodies = [json.dumps({"id": credly_badges.random_uuid(rng), "organization_id": org, "event_type": "badge.created",
                          "occurred_at": credly_badges.iso_millis(moment + timedelta(seconds=i))}).encode()
              for i in range(warmup + count)]
    path = f"/webhooks/credly/{token}"
    headers = {"Content-Type": "application/json"}
    route_ms: list[float] = []
    floor_ms: list[float] = []
    statuses: dict[tuple[int, str], int] = defaultdict(int)
    clock = time.perf_counter
    with Client(connector_app.app, stage_name="test", project_dir=str(ROOT)) as route, \
            Client(floor_app, stage_name="test", project_dir=str(ROOT)) as floor:
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
    return {"route": sorted(route_ms), "floor": sorted(floor_ms), "statuses": dict(statuses),
            "depth": depth, "expected_depth": warmup + count, "drainer_started": drainer_started}


def profile_drain(badges: list[dict], state_dir: Path, args: argparse.Namespace, top: int) -> str:
    from chalicelib.runtime import services

    with LrsProcess() as lrs:
        configure(delivery_env(state_dir, "profile", lrs.endpoint, args))
        svc = services()
        enqueue(svc, badges)
        drainer = svc.drainer()
        svc.worker  # noqa: B018 - built before profiling
        profiler = cProfile.Profile()
        gc.collect()
        t0 = time.perf_counter()
        profiler.enable()
        drainer.run_until_idle(timeout=args.timeout)
        profiler.disable()
        seconds = time.perf_counter() - t0
        left = svc.queue.depth()
    configure({})
    out = io.StringIO()
    out.write(f"  drain under cProfile: {seconds:.2f} s for {len(badges)} events ({left} left; "
              "profiling overhead included)\n")
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


# -- report --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="badges delivered end to end")
    parser.add_argument("--lrs-batch", type=int, default=50, help="LRS_BATCH_SIZE (statements per POST)")
    parser.add_argument("--worker-batch", type=int, default=50,
                        help="WORKER_BATCH_SIZE (messages per Worker.process call)")
    parser.add_argument("--webhooks", type=int, default=2_000, help="timed webhook requests per app")
    parser.add_argument("--warmup", type=int, default=50, help="untimed webhook requests per app first")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--timeout", type=float, default=1800.0, help="run_until_idle timeout, seconds")
    parser.add_argument("--profile", action="store_true", help="also cProfile one drain (fresh LRS)")
    parser.add_argument("--profile-events", type=int, default=None, help="events for --profile (default N)")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--show-logs", action="store_true", help="let the connector's log lines through")
    args = parser.parse_args(argv)
    n = args.events
    saved_env = {name: os.environ[name] for name in SETTING_NAMES if name in os.environ}
    if not args.show_logs:
        silence_connector_logs()

    t0 = time.perf_counter()
    badges = make_badges(n, args.seed)
    gen_seconds = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        state_dir = Path(tmp)
        translate_seconds, statements = translate_all(badges, delivery_env(state_dir, "x", "http://127.0.0.1:1/xAPI/", args))
        expected_ids = {s["id"] for s in statements}
        e2e = end_to_end(badges, expected_ids, state_dir, args)
        top = ceiling(statements, args.lrs_batch)
        hooks = webhooks(args.webhooks, args.warmup, args.seed, state_dir)
        profile = None
        if args.profile:
            profile = profile_drain(badges[: args.profile_events or n], state_dir, args, args.profile_top)
    for name in SETTING_NAMES:
        os.environ.pop(name, None)
    os.environ.update(saved_env)

    command = shlex.join([os.path.relpath(sys.executable), *sys.argv])
    e2e_rate, top_rate = n / e2e["seconds"], n / top["seconds"]
    split: Split = e2e["split"]
    accounted = sum(split.seconds.values())  # the wrapped methods never call one another
    posts_e2e = sum(-(-min(args.worker_batch, n - i) // args.lrs_batch) for i in range(0, n, args.worker_batch))

    print(f"delivery_throughput: {command}")
    print(f"  python {sys.version.split()[0]}, node LRS xapi-statements (memory), {os.cpu_count()} CPUs; "
          f"N={n} Credly badges (seed {args.seed}, generated in {gen_seconds:.2f} s)")
    print(f"  LRS_BATCH_SIZE={args.lrs_batch} (statements per POST), WORKER_BATCH_SIZE={args.worker_batch} "
          f"(messages per Worker.process): {posts_e2e} POSTs either way")
    print("  -- delivery (each phase on a fresh LRS)")
    print(f"  translate  Translator.translate x{n}  {translate_seconds:8.2f} s  "
          f"{n / translate_seconds:9,.0f} statements/s  ({translate_seconds / n * 1e6:.0f} us/event)")
    print(f"  enqueue    LocalOutbox.send x{n}     {e2e['enqueue_seconds']:8.2f} s  "
          f"{n / e2e['enqueue_seconds']:9,.0f} messages/s  ({e2e['enqueue_seconds'] / n * 1e6:.0f} us/message)")
    print(f"  e2e        drainer.run_until_idle    {e2e['seconds']:8.2f} s  {e2e_rate:9,.0f} statements/s")
    print(f"  ceiling    requests.Session POSTs    {top['seconds']:8.2f} s  {top_rate:9,.0f} statements/s"
          f"  ({top['posts']} POSTs, statuses {top['statuses']})")
    print(f"  RATIO      connector delivers at {e2e_rate / top_rate:.2f}x the LRS's own ceiling "
          f"(e2e time = {e2e['seconds'] / top['seconds']:.2f}x ceiling time)")
    print("  -- where the drain's time goes (wrapped methods; rest = drainer/worker glue, logs)")
    for label in sorted(split.seconds, key=split.seconds.get, reverse=True):
        share = split.seconds[label] / e2e["seconds"]
        print(f"     {label:40s} {split.seconds[label]:8.2f} s  {share:6.1%}  ({split.calls[label]} calls)")
    print(f"     {'rest':40s} {e2e['seconds'] - accounted:8.2f} s  {(e2e['seconds'] - accounted) / e2e['seconds']:6.1%}")
    lrs_send = split.seconds["LrsClient.send (encode + POST)"]
    print(f"     LrsClient.send / ceiling time = {lrs_send / top['seconds']:.2f}x")
    ok = (e2e["left"] == 0 and e2e["dead"] == 0 and e2e["stored"] == n and e2e["stored_distinct"] == n
          and e2e["stored_match"] and top["stored"] == n)
    print(f"  verify     {'OK' if ok else 'MISMATCH'}: enqueued {e2e['depth_before']}, left in outbox {e2e['left']}, "
          f"dead letters {e2e['dead']}; e2e LRS holds {e2e['stored']} earned statements "
          f"({e2e['stored_distinct']} distinct, {'= the expected ids' if e2e['stored_match'] else 'NOT the expected ids'}); "
          f"ceiling LRS holds {top['stored']}; counters {e2e['counters']}")

    route, floor = hooks["route"], hooks["floor"]
    r_med, f_med = statistics.median(route), statistics.median(floor)
    r_p99, f_p99 = percentile(route, 99), percentile(floor, 99)
    print(f"  -- webhook acknowledgement, Chalice test client, in-process ({len(route)} requests per app, "
          f"{args.warmup} warm-up each not counted)")
    print(f"  floor      bare Chalice no-op route       median {f_med:6.3f} ms   p99 {f_p99:6.3f} ms")
    print(f"  route      POST /webhooks/credly/{{token}}  median {r_med:6.3f} ms   p99 {r_p99:6.3f} ms   "
          f"(mean {statistics.fmean(route):.3f} ms, max {route[-1]:.2f} ms)")
    print(f"  RATIO      route / floor: median {r_med / f_med:.2f}x, p99 {r_p99 / f_p99:.2f}x "
          f"(route adds {r_med - f_med:.3f} ms at the median)")
    answers = ", ".join(f"{status} {body} x{k}" for (status, body), k in sorted(hooks["statuses"].items()))
    print(f"  verify     answers: {answers}; outbox depth {hooks['depth']} (expected {hooks['expected_depth']}); "
          f"drainer started: {hooks['drainer_started']}")
    if profile:
        print("  -- profile")
        print(profile.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
