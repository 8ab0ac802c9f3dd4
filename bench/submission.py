"""Claim submission under load: the POST of the check page (`/claim/check/`, statement
of truth ticked) for drafts already filled in, served by gunicorn + PostgreSQL on
loopback, beside a bare Django view (a 12-field form validated, one row inserted,
bench/submission_site) measured the same way in the same run.

Targets (issue 16): submission's p99 within 2x the bare view's; requests/s reported.

What a submission POST does: the middleware (sessions, CSRF, auth, messages, axes), the
claimant's session read (Django's database sessions), then `claim_submit`: the claim
locked and read with its scheme, every rule checked, the claim's UPDATE (which checks
its heads of loss), and the audit event, status update and letter request; then one
message to the broker carrying the status update, the letter and the flag check
(claims.outbox.published_together). Flags are found by the worker, not in the request
(claims.actions.flags). Both views run with prepared statements, as deployed
(DATABASE_PREPARED_STATEMENTS).

Needs PostgreSQL: it creates postgres://postgres@127.0.0.1:5432/redress_bench_sub (or
BENCH_POSTGRES_URL; the name must contain "bench"), migrates it and drops it at the end;
with no server it says so and skips. Redis at BENCH_REDIS_URL (default
redis://127.0.0.1:6379/0, under a key prefix of its own, removed at the end) is the cache
and the broker, as in production; without it, the file cache and the file broker of the
embedded default. Everything
runs on 127.0.0.1; each view's timed POSTs stop after --max-seconds; Ctrl-C or an error still
stops gunicorn and drops the database. Prints figures; not a pass/fail test.

    .venv/bin/python bench/submission.py [--requests 1500] [--concurrency 8] [--workers N]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/redress_bench_sub"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SETTINGS_MODULE = "submission_site.settings"  # config.settings + the bare view (bench/)
HOST = "127.0.0.1"
CHECK_PATH = "/claim/check/"
BARE_PATH = "/bench/bare/"
BARE_NAME = "bare view (12-field form, 1 INSERT)"
SUBMISSION_NAME = "claim submission (POST /claim/check/)"
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- Small helpers ------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(maintenance_url(url), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def bench_database_refusal(url: str) -> int | None:
    """The exit status (said why) if a bench may not use `url`: not a bench database's
    name (it will be dropped), or no server there. None: go ahead."""
    if "bench" not in database_name(url):
        print(f"Refusing to create and drop {database_name(url)!r}: not a bench name.")
        return 2
    if not postgres_reachable(url):
        print(f"SKIPPED: needs PostgreSQL; none reachable at {maintenance_url(url)}")
        return 0
    return None


def recreate_database(url: str, *, create: bool, wait: float = 120) -> None:
    """Drop the bench database (FORCE ends any connection left over), then maybe create it.

    Bounded: DROP DATABASE waits until every backend on the server has answered a signal,
    and one stuck backend (e.g. another program's stalled COPY) can hold that for ever.
    After `wait` seconds this gives up; the server finishes the drop by itself later."""
    import psycopg
    from psycopg import sql

    name = sql.Identifier(database_name(url))
    failures: list[BaseException] = []

    def statements() -> None:
        try:
            with psycopg.connect(maintenance_url(url), autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
                if create:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        except BaseException as error:
            failures.append(error)

    worker = threading.Thread(target=statements, daemon=True)
    worker.start()
    worker.join(wait)
    if worker.is_alive():
        raise RuntimeError(
            f"DROP DATABASE {database_name(url)} still waits after {wait:.0f} s: another "
            "session holds the server up (see pg_stat_activity); it will finish by itself."
        )
    if failures:
        raise failures[0]


def redis_client(url: str) -> Any:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
        client.ping()
    except Exception:
        return None
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def queued_messages(redis: Any, key_prefix: str) -> int | None:
    """Messages waiting on the broker under this run's key prefix (None: not Redis)."""
    if redis is None:
        return None
    return sum(
        redis.llen(key)
        for key in redis.scan_iter(match=f"{key_prefix}*")
        if redis.type(key) == b"list"
    )


def logged_failures(log: Path) -> list[str]:
    """Each distinct failure in the server's log: the message logged and its exception."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    failures: dict[str, int] = {}
    for number, line in enumerate(lines):
        if line.startswith("Traceback"):
            message = re.sub(r"\d+", "N", lines[number - 1]) if number else ""
            error = next((x for x in lines[number + 1 :] if x and not x[0].isspace()), "")
            key = f"{message} / {error}"
            failures[key] = failures.get(key, 0) + 1
    return [f"{count}× {key}" for key, count in failures.items()]


def raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# --- HTTP, as a browser does it: a form page for the cookie and token, then the POST ---


@dataclass
class Reply:
    status: int
    location: str
    cookies: dict[str, str]
    body: bytes


def client_address(number: int) -> str:
    """A loopback address of its own for each simulated person (Linux routes all of
    127.0.0.0/8 to lo), so rules about many claims from one address see real traffic."""
    return f"127.1.{number // 250 % 250}.{number % 250 + 1}"


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str],
    body: bytes | None = None,
    source: str = HOST,
) -> Reply:
    # A new connection each time: gunicorn's sync workers close it after every response.
    conn = http.client.HTTPConnection(HOST, port, timeout=30, source_address=(source, 0))
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://{HOST}:{port}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return Reply(
            status=response.status,
            location=response.headers.get("Location", ""),
            cookies={name: morsel.value for name, morsel in jar.items()},
            body=data,
        )
    finally:
        conn.close()


@dataclass
class Prepared:
    """One POST ready to send: its form body, its own cookies and client address."""

    path: str
    body: bytes
    cookies: dict[str, str]
    expect_location: str
    source: str


def prepare_post(
    port: int,
    path: str,
    cookies: dict[str, str],
    fields: dict[str, str],
    expect_location: str,
    source: str,
) -> Prepared:
    from django.conf import settings

    page = http_request(port, "GET", path, cookies=cookies, source=source)
    token = CSRF_INPUT.search(page.body)
    if page.status != 200 or token is None:
        raise RuntimeError(f"GET {path} gave {page.status} without a CSRF token")
    if b'name="statement_of_truth"' not in page.body:
        raise RuntimeError(f"GET {path} has no statement of truth field")
    cookies = {**cookies, **page.cookies}
    if settings.CSRF_COOKIE_NAME not in cookies:
        raise RuntimeError(f"GET {path} set no CSRF cookie")
    body = urlencode({"csrfmiddlewaretoken": token.group(1).decode(), **fields}).encode()
    return Prepared(path, body, cookies, expect_location, source)


def in_parallel(jobs: list[Any], concurrency: int, work: Any, *, seconds: float) -> list[Any]:
    """work(job) for every job, from `concurrency` threads, taking no new job after
    `seconds`. The results in job order (None for a job not run)."""
    results: list[Any] = [None] * len(jobs)
    indexes: Iterator[int] = iter(range(len(jobs)))
    lock = threading.Lock()
    failures: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while not failures and time.monotonic() < deadline:
            with lock:
                index = next(indexes, None)
            if index is None:
                return
            try:
                results[index] = work(jobs[index])
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


@dataclass
class Phase:
    name: str
    latencies: list[float]
    errors: int
    wall: float

    @classmethod
    def combine(cls, phases: list[Phase]) -> Phase:
        return cls(
            name=phases[0].name,
            latencies=[latency for phase in phases for latency in phase.latencies],
            errors=sum(phase.errors for phase in phases),
            wall=sum(phase.wall for phase in phases),
        )

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.done / self.wall

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


def timed_posts(
    name: str, port: int, items: list[Prepared], concurrency: int, seconds: float
) -> Phase:
    def send(item: Prepared) -> tuple[float, float, bool]:
        began = time.perf_counter()
        try:
            reply = http_request(
                port, "POST", item.path, cookies=item.cookies, body=item.body, source=item.source
            )
        except OSError:
            return began, time.perf_counter(), False
        ok = reply.status == 302 and reply.location == item.expect_location
        return began, time.perf_counter(), ok

    results = [r for r in in_parallel(items, concurrency, send, seconds=seconds) if r]
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    return Phase(
        name=name,
        latencies=[end - began for began, end, _ in results],
        errors=sum(1 for *_, ok in results if not ok),
        wall=wall,
    )


# --- Drafts, made through the services as the claim form's pages make them -----------


def make_drafts(scheme: Any, count: int, *, first: int = 0) -> list[str]:
    """`count` drafts with every page answered, as the claim form's pages answer them,
    each with a claimant session of its own (as after the contact page): session keys."""
    from importlib import import_module

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from claims.actions import submission
    from claims.actions.access import SESSION_KEY
    from claims.core import Actor
    from claims.models import HeadOfLoss, RegisterEntry

    entries = RegisterEntry.objects.bulk_create(
        RegisterEntry(
            scheme=scheme,
            notice_code=f"BNCH-{i // 10000:04d}-{i % 10000:04d}",
            full_name=f"Zoë O'Brien-Nguyễn {i}",
            email=f"claimant{i}@example.com",
            address=f"Flat {i % 40 + 1}\n{i // 40 + 1} St Mary's Road\nCardiff",
            postcode="CF24 3AB",
        )
        for i in range(first, first + count)
    )
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    session_keys = []
    for entry in entries:
        with transaction.atomic():
            claim = submission.claim_start(
                scheme=scheme,
                register_entry_id=entry.pk,
                full_name=entry.full_name,
                email=entry.email,
                address=entry.address,
                postcode=entry.postcode,
            )
            actor = Actor.claimant(claim.pk)
            submission.claim_mark_answered(claim_id=claim.pk, actor=actor, page="contact")
        submission.claim_update_details(
            claim_id=claim.pk,
            actor=actor,
            page="representative",
            representative_name="",
            representative_reason="",
        )
        submission.claim_update_details(
            claim_id=claim.pk,
            actor=actor,
            page="what-happened",
            what_happened="Two payments I did not make were taken from my account.",
        )
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=actor,
            category=HeadOfLoss.Category.BANK_CHARGES,
            amount_claimed="35.00",
            description="Overdraft charge after the payments",
            incurred_on=dt.date(2017, 3, 14),
        )
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=actor,
            category=HeadOfLoss.Category.TIME_SPENT,
            hours="3",
            description="Calls to the bank",
        )
        submission.claim_mark_answered(claim_id=claim.pk, actor=actor, page="losses")
        submission.distress_set(
            claim_id=claim.pk,
            actor=actor,
            affected=True,
            effects=["worry", "sleep"],
            account="I could not sleep for weeks.",
        )
        submission.claim_update_details(
            claim_id=claim.pk,
            actor=actor,
            page="support",
            support_needs="",
            preferred_format="standard",
            preferred_language="",
        )
        session = session_store()
        session[SESSION_KEY] = {"claim": claim.pk, "seen": timezone.now().timestamp()}
        session.save()
        session_keys.append(session.session_key)
    return session_keys


BARE_FIELDS = {
    "full_name": "Zoë O'Brien",
    "email": "zoe@example.com",
    "phone": "029 2018 0000",
    "address": "Flat 2\n14 St Mary's Road\nCardiff",
    "postcode": "CF24 3AB",
    "what_happened": "Two payments I did not make were taken from my account.",
    "category": "bank_charges",
    "amount": "35.00",
    "incurred_on": "2017-03-14",
    "hours": "3",
    "preferred_format": "standard",
    "statement_of_truth": "on",
}


# --- Queries per request, in-process (what a POST costs the database) ----------------


def queries_per_post(session_key: str, show: bool) -> tuple[int, int]:
    """SQL statements one submission and one bare POST make, through Django's test client."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = []
    for path, fields, cookies in (
        (CHECK_PATH, {"statement_of_truth": "on"}, {settings.SESSION_COOKIE_NAME: session_key}),
        (BARE_PATH, BARE_FIELDS, {}),
    ):
        client = Client(HTTP_HOST=HOST)
        for name, value in cookies.items():
            client.cookies[name] = value
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, fields)
        if response.status_code != 302:
            raise RuntimeError(f"in-process POST {path} gave {response.status_code}")
        counts.append(len(queries))
        if show:
            print(f"  SQL for POST {path}:")
            for query in queries.captured_queries:
                print(f"    {query['time']:>6}s  {query['sql'][:160]}")
    return counts[0], counts[1]


# --- gunicorn ---------------------------------------------------------------------------


def start_gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--worker-class", "sync",
        "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
        "--timeout", "30",
        "--graceful-timeout", "5",
        "--no-control-socket",
        "--error-logfile", str(log),
    ]  # fmt: skip
    with log.open("ab") as out:
        # A session of its own: a Ctrl-C reaches only this script, which stops gunicorn.
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )


def wait_until_serving(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if http_request(port, "GET", BARE_PATH, cookies={}).status == 200:
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"gunicorn did not start serving on {HOST}:{port}\n{tail}")


def stop_gunicorn(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()  # the master stops its workers gracefully
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=15)
    # Anything left in its process group (a stuck worker) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=5)


# --- The run ----------------------------------------------------------------------------


def run(args: argparse.Namespace, var_dir: Path, broker: str, redis: Any, key_prefix: str) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)

    from submission_site.models import BareSubmission

    from claims.actions.demo import create_demo_scheme
    from claims.domain.stages import Stage
    from claims.models import Claim, StatusUpdate

    load_before = os.getloadavg()[0]
    warmup = args.warmup if args.warmup is not None else 4 * args.workers
    total = warmup + -(-args.requests // args.rounds) * args.rounds
    print(f"preparing {total} drafted claims through the services …", flush=True)
    began = time.perf_counter()
    scheme = create_demo_scheme(overrides={"slug": "bench-submission"})
    drafts = make_drafts(scheme, total)
    print(f"  done in {time.perf_counter() - began:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres_version = cursor.fetchone()[0]
    connections.close_all()

    port = free_port()
    log = var_dir / "gunicorn.log"
    server = start_gunicorn(port, args.workers, log)
    try:
        wait_until_serving(server, port, log)
        # Each claim's browser: its session cookie, the check page for the CSRF cookie
        # and token, then one POST. Each bare POST: its own form page first, likewise.
        session_cookie = settings.SESSION_COOKIE_NAME
        submissions = in_parallel(
            list(enumerate(drafts)),
            args.concurrency,
            lambda draft: prepare_post(
                port, CHECK_PATH, {session_cookie: draft[1]}, {"statement_of_truth": "on"},
                "/claim/submitted/", client_address(draft[0]),
            ),
            seconds=600,
        )  # fmt: skip
        bare = in_parallel(
            list(range(total)),
            args.concurrency,
            lambda number: prepare_post(
                port, BARE_PATH, {}, BARE_FIELDS, BARE_PATH, client_address(number)
            ),
            seconds=600,
        )
        if None in submissions or None in bare:
            raise RuntimeError("Fetching the form pages took more than 600 s.")
        # Warm every worker (imports, connections to PostgreSQL and the broker) untimed.
        timed_posts("warm-up", port, bare[:warmup], args.concurrency, args.max_seconds)
        timed_posts("warm-up", port, submissions[:warmup], args.concurrency, args.max_seconds)
        # Rounds in alternating order, so drift (other load on the machine, a growing
        # database) falls on both views alike.
        rounds: dict[str, list[Phase]] = {BARE_NAME: [], SUBMISSION_NAME: []}
        per_round = -(-args.requests // args.rounds)
        for number in range(args.rounds):
            chunk = slice(warmup + number * per_round, warmup + (number + 1) * per_round)
            order = [(BARE_NAME, bare), (SUBMISSION_NAME, submissions)]
            for name, items in order[:: 1 if number % 2 == 0 else -1]:
                rounds[name].append(
                    timed_posts(
                        name, port, items[chunk], args.concurrency,
                        args.max_seconds / args.rounds,
                    )
                )  # fmt: skip
        phases = [Phase.combine(rounds[BARE_NAME]), Phase.combine(rounds[SUBMISSION_NAME])]
    finally:
        stop_gunicorn(server)

    load_after = os.getloadavg()[0]
    base, sub = phases
    # Every 302 must have been a real submission: one claim, one status update each.
    submitted = Claim.objects.filter(stage=Stage.SUBMITTED).count()
    updates = StatusUpdate.objects.count()
    rows = BareSubmission.objects.count()
    queued = queued_messages(redis, key_prefix)
    failures = logged_failures(log)
    (session_key,) = make_drafts(scheme, 1, first=total)
    submission_queries, bare_queries = queries_per_post(session_key, args.show_queries)

    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import gunicorn

    print(
        f"machine: nproc {nproc} ({cpu_model()}), Python {platform.python_version()}, "
        f"PostgreSQL {postgres_version}, Django {django.get_version()}, "
        f"gunicorn {gunicorn.__version__} ({args.workers} sync workers), broker {broker}; "
        f"load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(
        f"load: {args.concurrency} client threads on loopback, a new connection per request, "
        f"{warmup} untimed warm-up POSTs each, then up to {total - warmup} timed POSTs each "
        f"in {args.rounds} alternating rounds (at most {args.max_seconds:.0f} s each view)"
    )
    print(f"  {'':40s} {'requests':>8s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    for phase in phases:
        print(
            f"  {phase.name:40s} {phase.done:8d} {phase.rps:8.1f} {phase.p50 * 1000:8.2f}"
            f" {phase.p99 * 1000:8.2f} {phase.errors:7d}"
        )
    rps_ratio = sub.rps / base.rps
    p99_ratio = sub.p99 / base.p99
    p99_met = p99_ratio <= 2.0
    print(
        f"  submission / bare: throughput {rps_ratio:.2f}× (reported), p99 {p99_ratio:.2f}× "
        f"(target ≤ 2×: {'met' if p99_met else 'MISSED'})"
    )
    print(
        f"  queries per POST (in-process, CaptureQueriesContext): submission "
        f"{submission_queries}, bare {bare_queries}"
    )
    good_submissions = warmup + sub.done - sub.errors
    good_bare = warmup + base.done - base.errors
    consistent = submitted == updates == good_submissions and rows == good_bare
    print(
        f"  in the database: {submitted} claims submitted and {updates} status updates "
        f"for {good_submissions} good POSTs; {rows} bare rows for {good_bare}"
        + ("" if consistent else "  (MISMATCH)")
    )
    if queued is not None:
        print(
            f"  on the broker: {queued} task messages queued "
            "(one a submission: its status update, letter and flag check)"
        )
    for failure in failures:
        print(f"  server log: {failure}")
    errors = base.errors + sub.errors
    verdict = "met" if p99_met and consistent and not errors else "MISSED"
    print(f"target (issue 16: p99 ≤ 2× the bare view's, no errors): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="timed POSTs per view")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per view")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument(
        "--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1) + 1),
        help="gunicorn sync workers (default 2 × CPUs + 1)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int, default=None, help="untimed POSTs per view")
    parser.add_argument(
        "--max-seconds", type=float, default=60, help="time limit on each view's timed POSTs"
    )
    parser.add_argument("--show-queries", action="store_true", help="list each POST's SQL")
    args = parser.parse_args()

    if (refused := bench_database_refusal(POSTGRES_URL)) is not None:
        return refused

    # Ctrl-C and a plain kill both clean up (SIGINT too, even when started in the background).
    signal.signal(signal.SIGINT, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)
    var_dir = Path(tempfile.mkdtemp(prefix="redress-bench-sub-"))
    key_prefix = f"redress-bench-sub-{os.getpid()}:"
    redis = redis_client(REDIS_URL)
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "BANK_DETAILS_KEYS": Fernet.generate_key().decode(),
            "STATIC_MANIFEST": "false",
            "ALLOWED_HOSTS": HOST,
            # Plain HTTP on loopback: cookies marked Secure would never come back.
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": POSTGRES_URL,
            "REDRESS_VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            # Redis as production has it, cache (so sessions too) and broker, under this
            # run's key prefix; without Redis, the embedded default's file cache.
            "REDIS_URL": REDIS_URL if redis else "",
            "CACHE_KEY_PREFIX": key_prefix if redis else "",
            "EMAIL_URL": "",
            "CELERY_BROKER_URL": REDIS_URL if redis else "",
            "CELERY_BROKER_KEY_PREFIX": key_prefix if redis else "",
        }
    )
    broker = (
        "Redis on loopback (cache and sessions too)"
        if redis
        else "file system, file cache (no Redis at BENCH_REDIS_URL)"
    )
    try:
        recreate_database(POSTGRES_URL, create=True)
        run(args, var_dir, broker, redis, key_prefix)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if redis is not None:
            for key in redis.scan_iter(match=f"{key_prefix}*"):
                redis.delete(key)
        shutil.rmtree(var_dir, ignore_errors=True)
        recreate_database(POSTGRES_URL, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
