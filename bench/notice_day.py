"""Notice day under the production topology on one machine: many claimants start and
submit claims at once while a notice campaign sends, caseworkers work their queue and
letters are generated; then every claim and email is counted.

The processes are Procfile.prod's own (gunicorn with config/gunicorn.py, a Celery worker
per queue, beat), each started from its line there, on PostgreSQL and Redis on loopback;
emails go to a real SMTP server (aiosmtpd, a process of its own) that records each
Message-ID. With --kill-worker, the notifications worker is killed (SIGKILL, the whole
worker, mid-delivery) halfway through and started again.

It reports requests/s, p50/p99 per page, errors, emails and letters per second, and
afterwards checks that every submitted claim exists exactly once and that every status
update and notice was delivered exactly once (Message-IDs received against the rows).
Claim submission's p99 is set beside a bare Django view's (bench/submission_site: a
12-field form, one INSERT) measured by one more client at the same time, for issue 3's
target (p99 <= 2x the bare view's).

A plain threaded HTTP client, as bench/submission.py, rather than locust: the same
timing code as the other benches, no gevent patching of this process (which also runs
the database checks), and nothing to install. Everything runs on 127.0.0.1 and stops
after --seconds of load plus at most --drain-seconds for the queues to empty; Ctrl-C or
an error still stops every process, drops the database and removes its Redis keys.
Prints figures (and writes them to --report); not a pass/fail test.

    .venv/bin/python bench/notice_day.py [--seconds 90] [--claimants 6] [--caseworkers 2]
                                         [--register 3000] [--kill-worker] [--report FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from staff_session import signed_in_session_key  # noqa: E402
from submission import (  # noqa: E402  (bench/ is on the path only from here)
    BARE_FIELDS,
    BARE_PATH,
    CSRF_INPUT,
    bench_database_refusal,
    client_address,
    cpu_model,
    free_port,
    http_request,
    percentile,
    recreate_database,
)

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/redress_bench_notice_day"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
HOST = "127.0.0.1"
SLUG = "notice-day"
MESSAGE_ID = re.compile(r"<redress\.(\w+)\.(\d+)@")
CLAIM_LINK = re.compile(rb'href="/admin/claims/claim/(\d+)/change/')
TRANSITION = re.compile(rb'name="transition" value="(\w+)"')
VERSION = re.compile(rb'name="version" value="(\d+)"')
KILLED_QUEUE = "notifications"


# --- The SMTP server: a process of its own, so its work never shares this one's GIL ----


def smtp_sink_main(port: int, log_path: str) -> None:
    """Accept every email and append `<time> <Message-ID>` to `log_path`, one line each."""
    import email

    from aiosmtpd.controller import Controller

    log = open(log_path, "a", buffering=1)  # noqa: SIM115  (open for the process's life)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message = email.message_from_bytes(envelope.content)
            log.write(f"{time.time():.3f} {message.get('Message-ID', '-')}\n")
            return "250 2.0.0 OK"

    controller = Controller(Handler(), hostname=HOST, port=port)
    controller.start()
    while True:  # until the bench terminates this process
        time.sleep(3600)


def received(log_path: Path) -> list[tuple[float, str, int]]:
    """(time, kind, row id) of each email the sink received."""
    out = []
    for line in log_path.read_text().splitlines() if log_path.exists() else []:
        stamp, _, message_id = line.partition(" ")
        match = MESSAGE_ID.search(message_id)
        out.append((float(stamp), match.group(1) if match else "other",
                    int(match.group(2)) if match else 0))  # fmt: skip
    return out


# --- The processes: Procfile.prod's lines -------------------------------------------


@dataclass
class Process:
    name: str
    command: str
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            # A session of its own: its whole group can be killed, as a machine dies.
            self.popen = subprocess.Popen(  # noqa: S603  (Procfile.prod's own command line)
                ["/bin/sh", "-c", f"exec {self.command}"], cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self) -> None:
        if self.popen is None:
            return
        self.kill(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=20)
        self.kill(signal.SIGKILL)  # and anything left in its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def procfile_processes(env: dict[str, str], logs: Path) -> dict[str, Process]:
    processes = {}
    for line in (ROOT / "Procfile.prod").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name] = Process(name, command.strip(), env, logs / f"{name}.log")
    return processes


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise RuntimeError(f"gave up after {timeout:.0f} s waiting for {what}")


def held_messages(broker: Any, prefix: str, queue: str) -> list[str]:
    """The tasks taken from `queue` and not yet acknowledged: `task(args)` each."""
    import json

    held = []
    for raw in broker.hvals(f"{prefix}unacked"):
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            message, _, routing_key = json.loads(raw)[:3]
            if routing_key == queue:
                headers = message["headers"]
                held.append(f"{headers['task'].rsplit('.', 1)[-1]}{headers['argsrepr']}")
    return held


# --- The clients ----------------------------------------------------------------------


@dataclass
class Sample:
    page: str
    seconds: float
    ok: bool
    at: float


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    problems: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float, ok: bool, problem: str = "") -> None:
        with self.lock:
            self.samples.append(Sample(page, seconds, ok, time.monotonic()))
            if not ok:
                self.problems[f"{page}: {problem}"] += 1


class Browser:
    """One person's cookies and loopback address; each request timed under a page name."""

    def __init__(self, port: int, recorder: Recorder, source: str = HOST,
                 cookies: dict[str, str] | None = None) -> None:  # fmt: skip
        self.port, self.recorder, self.source = port, recorder, source
        self.cookies = dict(cookies or {})

    def request(self, page: str, method: str, path: str, fields: dict[str, str] | None = None,
                expect: int = 200, location: str | None = None) -> Any:  # fmt: skip
        body = urlencode(fields, doseq=True).encode() if fields is not None else None
        began = time.perf_counter()
        try:
            reply = http_request(self.port, method, path, cookies=self.cookies, body=body,
                                 source=self.source)  # fmt: skip
        except OSError as error:
            self.recorder.add(page, time.perf_counter() - began, False, type(error).__name__)
            return None
        elapsed = time.perf_counter() - began
        self.cookies.update(reply.cookies)
        ok = reply.status == expect and (location is None or reply.location == location)
        problem = f"{reply.status} {reply.location}".strip()
        self.recorder.add(page, elapsed, ok, problem)
        return reply if ok else None

    def form(self, page: str, path: str, fields: dict[str, str], location: str | None = None,
             ) -> bool:  # fmt: skip
        """GET the page, then POST it with its CSRF token: True if it redirected on."""
        shown = self.request(f"GET {page}", "GET", path)
        token = CSRF_INPUT.search(shown.body) if shown else None
        if token is None:
            return False
        fields = {"csrfmiddlewaretoken": token.group(1).decode(), **fields}
        return bool(self.request(f"POST {page}", "POST", path, fields, 302, location))


def claimant_journey(browser: Browser, entry: tuple[int, str, str], number: int) -> bool:
    """From the notice to a submitted claim, page by page as a person would."""
    _, code, postcode = entry
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("start (notice code)", f"/s/{SLUG}/start/", {"notice_code": code, "postcode": postcode}),
        ("contact", "/claim/contact/", {
            "full_name": f"Zoë O'Brien {number}", "email": f"claimant{number}@example.com",
            "phone": "", "address": f"{number} High Street\nLeeds", "postcode": postcode,
        }),
        ("someone else", "/claim/someone-else/", {"on_behalf": "no"}),
        ("what happened", "/claim/what-happened/",
         {"what_happened": "Two payments I did not make were taken from my account."}),
        ("add loss: transactions", "/claim/losses/add/unauthorised_transactions/", {
            "incurred_on_0": "14", "incurred_on_1": "3", "incurred_on_2": "2017",
            "amount": "120.50", "description": "Florist in Leeds",
        }),
        ("add loss: time", "/claim/losses/add/time_spent/", {"hours": "3", "description": "Calls"}),
        ("losses", "/claim/losses/", {}),
        ("distress", "/claim/distress/", {"affected": "yes", "effects": ["worry"], "account": ""}),
        ("support", "/claim/support/", {"preferred_format": "standard"}),
    ]  # fmt: skip
    if not browser.request("GET scheme page", "GET", f"/s/{SLUG}/"):
        return False
    for page, path, fields in steps:
        if not browser.form(page, path, fields):
            return False
    if not browser.form("check and submit", "/claim/check/", {"statement_of_truth": "on"},
                        location="/claim/submitted/"):  # fmt: skip
        return False
    return bool(browser.request("GET submitted", "GET", "/claim/submitted/"))


def caseworker_loop(browser: Browser, index: int, count: int, stop: threading.Event) -> int:
    """Work the unassigned queue: triage each new claim (this caseworker's share, so two
    never race for one), then accept it for assessment. Each move emails the claimant."""
    moved = 0
    done: set[int] = set()
    while not stop.is_set():
        queue = browser.request("GET claims queue", "GET", "/admin/claims/claim/?queue=unassigned")
        ids = [int(i) for i in CLAIM_LINK.findall(queue.body)] if queue else []
        mine = [i for i in ids if i % count == index and i not in done]
        if not mine:
            time.sleep(0.5)
            continue
        claim_id = mine[0]
        done.add(claim_id)
        for _ in range(2):  # triage_start, then triage_accept
            page = browser.request(
                "GET claim page", "GET", f"/admin/claims/claim/{claim_id}/change/"
            )
            if page is None:
                break
            moves = [m.decode() for m in TRANSITION.findall(page.body)]
            move = next((m for m in ("triage_start", "triage_accept") if m in moves), None)
            token, version = CSRF_INPUT.search(page.body), VERSION.search(page.body)
            if move is None or token is None or version is None:
                break
            fields = {"csrfmiddlewaretoken": token.group(1).decode(), "transition": move,
                      "version": version.group(1).decode(), "reason": ""}  # fmt: skip
            if browser.request(
                f"POST {move}", "POST", f"/admin/claims/claim/{claim_id}/transition/", fields, 302
            ):
                moved += 1  # fmt: skip
    return moved


# --- Setting up the scheme, the register and the staff -------------------------------


def prepare(register_size: int, caseworkers: int) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth.models import Group, User

    from claims.actions.demo import create_demo_scheme
    from claims.domain import roles
    from claims.domain.references import generate_notice_code
    from claims.models import RegisterEntry

    scheme = create_demo_scheme(overrides={"slug": SLUG})
    rng = random.Random(2017)
    entries = RegisterEntry.objects.bulk_create(
        RegisterEntry(
            scheme=scheme,
            notice_code=generate_notice_code(),
            full_name=f"Person {i}",
            email=f"person{i}@example.com",
            address=f"{i} Mill Lane\nLeeds",
            postcode=f"LS{rng.randint(1, 28)} {rng.randint(1, 9)}AB",
        )
        for i in range(register_size)
    )
    groups = {g.name: g for g in Group.objects.all()}

    def staff(username: str, role: str) -> Any:
        user = User.objects.create_user(username, f"{username}@bench.test", secrets.token_hex(12))
        user.is_staff = True
        user.save()
        user.groups.add(groups[role])
        return user

    def session_cookie(user: Any) -> dict[str, str]:
        return {settings.SESSION_COOKIE_NAME: signed_in_session_key(user)}

    workers = [staff(f"caseworker{n}", roles.CASEWORKER) for n in range(caseworkers)]
    return {
        "scheme": scheme,
        "administrator": staff("schemeadmin", roles.SCHEME_ADMINISTRATOR),
        "entries": [(e.pk, e.notice_code, e.postcode) for e in entries],
        "caseworker_cookies": [session_cookie(user) for user in workers],
    }


# --- The run ----------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path, env: dict[str, str], prefix: str) -> list[str]:
    import django
    import redis
    from django.core.management import call_command
    from django.db import connection, connections

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    from claims.actions import notices
    from claims.domain.stages import Stage
    from claims.models import (
        Claim,
        Letter,
        LetterRequest,
        NoticeCampaign,
        RegisterEntry,
        StatusUpdate,
    )

    print(f"preparing the scheme, {args.register} register entries and staff …", flush=True)
    setup = prepare(args.register, args.caseworkers)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres_version = cursor.fetchone()[0]
    connections.close_all()

    sink_log = work / "smtp.log"
    sink_port = int(env["EMAIL_URL"].rsplit(":", 1)[1])
    sink = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--smtp-sink", str(sink_port), str(sink_log)],
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    processes = procfile_processes(env, work)
    try:
        for process in processes.values():
            process.start()
        port = int(env["PORT"])
        probe = Browser(port, Recorder())
        wait_until(lambda: probe.request("healthz", "GET", "/healthz"), 90, "/healthz to say ok")
        for process in processes.values():
            if process.name.startswith("worker"):
                wait_until(lambda p=process: " ready." in p.output(), 90, f"{process.name}")
        # Untimed warm-up: every gunicorn worker imports its pages and opens its connections.
        for path in (f"/s/{SLUG}/", f"/s/{SLUG}/start/", BARE_PATH) * (3 * args.web_workers):
            probe.request("warm-up", "GET", path)
        for cookies in setup["caseworker_cookies"]:
            Browser(port, Recorder(), HOST, cookies).request(
                "warm-up", "GET", "/admin/claims/claim/?queue=unassigned"
            )
        load_before = os.getloadavg()
        print(f"topology up ({', '.join(processes)}); load average {load_before[0]:.2f}; "
              f"{args.seconds:.0f} s of notice day …", flush=True)  # fmt: skip

        recorder = Recorder()
        stop = threading.Event()
        submitted: list[int] = []
        started: list[int] = []
        entries = list(setup["entries"])
        random.Random(9).shuffle(entries)
        lock = threading.Lock()
        counter = iter(range(len(entries)))

        def claimant() -> None:
            while not stop.is_set():
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                entry = entries[number]
                started.append(entry[0])
                browser = Browser(port, recorder, client_address(number))
                if claimant_journey(browser, entry, number):
                    submitted.append(entry[0])

        def bare_probe() -> None:
            number = 0
            while not stop.is_set():
                number += 1
                browser = Browser(port, recorder, client_address(100_000 + number))
                browser.form("bare view", BARE_PATH, BARE_FIELDS, location=BARE_PATH)

        moves: list[int] = []

        def caseworker(index: int) -> None:
            browser = Browser(port, recorder, HOST, setup["caseworker_cookies"][index])
            moves.append(caseworker_loop(browser, index, args.caseworkers, stop))

        began = time.monotonic()
        began_wall = time.time()
        campaign = notices.notice_campaign_start(
            scheme_id=setup["scheme"].pk, user=setup["administrator"]
        )
        threads = [threading.Thread(target=claimant) for _ in range(args.claimants)]
        threads += [threading.Thread(target=caseworker, args=(i,)) for i in range(args.caseworkers)]
        threads.append(threading.Thread(target=bare_probe))
        for thread in threads:
            thread.start()
        killed_at = restarted_at = None
        at_kill: tuple[list[str], int, int] = ([], 0, 0)
        broker = redis.Redis.from_url(REDIS_URL)
        while time.monotonic() - began < args.seconds:
            elapsed = time.monotonic() - began
            held: list[str] = []
            if args.kill_worker and killed_at is None and elapsed >= args.seconds / 2:
                # Kill it while it holds a status update it has not finished (at most 30 s on).
                held = held_messages(broker, prefix, KILLED_QUEUE)
                if not held and elapsed < args.seconds / 2 + 30:
                    time.sleep(0.01)
                    continue
                victim = processes[f"worker-{KILLED_QUEUE}"]
                victim.kill(signal.SIGKILL)
                victim.popen.wait()  # type: ignore[union-attr]
                killed_at = elapsed
                # What the dead worker held: messages taken and not acknowledged (all
                # workers'), messages still queued, and status updates not yet sent.
                at_kill = (
                    held,
                    broker.llen(f"{prefix}{KILLED_QUEUE}"),
                    StatusUpdate.objects.filter(state=StatusUpdate.State.PENDING).count(),
                )
            if killed_at is not None and restarted_at is None and elapsed >= killed_at + 5:
                processes[f"worker-{KILLED_QUEUE}"].start()
                restarted_at = elapsed
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join()
        load_seconds = time.monotonic() - began
        load_ended_wall = time.time()
        load_after = os.getloadavg()
        print(f"load stopped after {load_seconds:.1f} s; waiting for the queues to empty …",
              flush=True)  # fmt: skip

        def drained() -> bool:
            campaign.refresh_from_db()
            return (
                campaign.state == NoticeCampaign.State.FINISHED
                and not StatusUpdate.objects.filter(state=StatusUpdate.State.PENDING).exists()
                and not LetterRequest.objects.filter(state=LetterRequest.State.PENDING).exists()
            )

        drain_began = time.monotonic()
        try:
            wait_until(drained, args.drain_seconds, "the outbox, letters and notices to finish")
            drain_note = f"drained {time.monotonic() - drain_began:.1f} s after the load stopped"
        except RuntimeError as error:
            drain_note = f"NOT DRAINED: {error}"
        time.sleep(2)  # an email the sink is still writing down
        # --- Counting ---------------------------------------------------------------
        emails = received(sink_log)
        by_kind: dict[str, Counter[int]] = defaultdict(Counter)
        for _, kind, pk in emails:
            by_kind[kind][pk] += 1
        updates = dict(StatusUpdate.objects.values_list("pk", "state"))
        update_sent = {pk for pk, state in updates.items() if state == StatusUpdate.State.SENT}
        status_received = by_kind["status"]
        status_twice = sorted(pk for pk, n in status_received.items() if n > 1)
        status_missing = sorted(pk for pk in updates if status_received[pk] == 0)
        status_stray = sorted(pk for pk in status_received if pk not in updates)
        noticed = set(
            RegisterEntry.objects.filter(notice_sent_at__isnull=False).values_list("pk", flat=True)
        )
        notice_received = by_kind["notice"]
        notice_twice = sorted(pk for pk, n in notice_received.items() if n > 1)
        notice_missing = sorted(noticed - set(notice_received))
        notice_unmarked = sorted(set(notice_received) - noticed)
        claims_per_entry = Counter(
            Claim.objects.filter(register_entry_id__in=started).values_list(
                "register_entry_id", flat=True
            )
        )
        submitted_in_db = set(
            Claim.objects.exclude(stage=Stage.DRAFT).values_list("register_entry_id", flat=True)
        )
        claims_doubled = sorted(pk for pk, n in claims_per_entry.items() if n > 1)
        claims_lost = sorted(set(submitted) - submitted_in_db)
        claims_unreported = sorted(submitted_in_db - set(submitted))
        letter_states = Counter(LetterRequest.objects.values_list("state", flat=True))
        letters = Letter.objects.count()
        letters_in_load = Letter.objects.filter(
            created_at__lte=dt.datetime.fromtimestamp(load_ended_wall, dt.UTC)
        ).count()
        campaign.refresh_from_db()
    finally:
        for process in processes.values():
            process.stop()
        sink.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            sink.wait(timeout=10)

    # --- The report -------------------------------------------------------------------------
    import celery
    import gunicorn

    samples = recorder.samples
    pages: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        pages[sample.page].append(sample)
    nproc = len(os.sched_getaffinity(0))
    emails_in_load = sum(1 for stamp, *_ in emails if began_wall <= stamp <= load_ended_wall)
    last_email = max((stamp for stamp, *_ in emails), default=began_wall)
    title = "Notice day" + (" with the notifications worker killed halfway" * args.kill_worker)
    command = " ".join(shlex.quote(a) for a in sys.argv)
    lines = [
        f"# {title}",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: `{command}`",
        "",
        f"- machine: nproc {nproc} ({cpu_model()}), load average {load_before[0]:.2f} / "
        f"{load_before[1]:.2f} / {load_before[2]:.2f} before, {load_after[0]:.2f} / "
        f"{load_after[1]:.2f} / {load_after[2]:.2f} after (other people's work shares the cores)",
        f"- versions: Python {platform.python_version()}, PostgreSQL {postgres_version}, "
        f"Django {django.get_version()}, Celery {celery.__version__}, gunicorn "
        f"{gunicorn.__version__} ({env['WEB_CONCURRENCY']} sync workers), Redis broker and cache",
        f"- processes (Procfile.prod): {', '.join(processes)}",
        f"- load: {args.claimants} claimants at a time (each a new person: notice code to "
        f"submitted, 22 requests), {args.caseworkers} caseworkers triaging the unassigned queue, "
        f"1 client on the bare view, a notice campaign to {args.register} people; "
        f"{load_seconds:.0f} s, then the queues drained ({drain_note})",
    ]
    if args.kill_worker:
        lines.append(
            f"- fault: worker-{KILLED_QUEUE} killed (SIGKILL to its whole process group) at "
            f"{killed_at:.0f} s and started again at {restarted_at:.0f} s; "
            f"CELERY_VISIBILITY_TIMEOUT={env['CELERY_VISIBILITY_TIMEOUT']} s, "
            f"OUTBOX_SWEEP_AFTER_SECONDS={env['OUTBOX_SWEEP_AFTER_SECONDS']} s; at the kill "
            f"it held {len(at_kill[0])} unacknowledged message(s) ({', '.join(at_kill[0])}), "
            f"{at_kill[1]} more waited on the {KILLED_QUEUE} queue and {at_kill[2]} status "
            f"updates were not yet sent"
        )
    total = len(samples)
    errors = sum(1 for s in samples if not s.ok)
    lines += [
        "",
        f"**{total} requests, {total / load_seconds:.1f} requests/s, {errors} errors**",
        "",
        "| page | requests | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for page, group in pages.items():
        latencies = [s.seconds for s in group]
        lines.append(
            f"| {page} | {len(group)} | {percentile(latencies, 0.5) * 1000:.0f} | "
            f"{percentile(latencies, 0.99) * 1000:.0f} | {sum(1 for s in group if not s.ok)} |"
        )
    for problem, count in sorted(recorder.problems.items()):
        lines.append(f"\n- error: {count}× {problem}")
    submit = [s.seconds for s in pages.get("POST check and submit", [])]
    bare = [s.seconds for s in pages.get("POST bare view", [])]
    if submit and bare:
        ratio = percentile(submit, 0.99) / percentile(bare, 0.99)
        lines += [
            "",
            f"Claim submission p99 {percentile(submit, 0.99) * 1000:.0f} ms against the bare "
            f"view's {percentile(bare, 0.99) * 1000:.0f} ms at the same time: {ratio:.2f}× "
            f"(issue 3's target ≤ 2×: {'met' if ratio <= 2 else 'MISSED'}).",
        ]
    email_seconds = max(last_email - began_wall, 1e-9)
    lines += [
        "",
        f"- claims: {len(started)} started, {len(submitted)} submitted; in the database "
        f"{len(submitted_in_db)} submitted; {len(claims_doubled)} doubled, {len(claims_lost)} "
        f"lost, {len(claims_unreported)} submitted without the claimant seeing it",
        f"- caseworker moves: {sum(moves)}",
        f"- emails received: {len(emails)} ({sum(by_kind['status'].values())} status updates, "
        f"{sum(by_kind['notice'].values())} notices, "
        f"{sum(n for k, c in by_kind.items() if k not in {'status', 'notice'} for n in c.values())}"
        f" other); {emails_in_load / load_seconds:.1f}/s during the load, "
        f"{len(emails) / email_seconds:.1f}/s from start to the last one",
        f"- status updates: {len(updates)} rows, {len(update_sent)} sent; received once "
        f"each: {sum(1 for n in status_received.values() if n == 1)}; twice or more: "
        f"{len(status_twice)} {status_twice[:10]}; never: {len(status_missing)} "
        f"{status_missing[:10]}; without a row: {len(status_stray)}",
        f"- notices: campaign {campaign.state}, {campaign.sent} sent, {campaign.failed} failed of "
        f"{campaign.total}; received once each: "
        f"{sum(1 for n in notice_received.values() if n == 1)}; twice or more: "
        f"{len(notice_twice)}; marked sent but never received: {len(notice_missing)}; received "
        f"but not marked: {len(notice_unmarked)}",
        f"- letters: {letters} generated ({dict(letter_states)} requests); "
        f"{letters_in_load / load_seconds:.1f}/s during the load",
    ]
    exact = not (status_twice or status_missing or status_stray or notice_twice or notice_missing
                 or claims_doubled or claims_lost or errors)  # fmt: skip
    verdict = "0 errors, nothing lost, nothing doubled" if exact else "NOT EXACT: see above"
    lines += ["", f"**Verdict: {verdict}**"]
    if args.kill_worker:
        victim = processes[f"worker-{KILLED_QUEUE}"]
        lines.append(
            f"\n(worker-{KILLED_QUEUE} started {victim.starts} times; its log has "
            f"{victim.output().count(' ready.')} 'ready' lines)"
        )
    return lines


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--smtp-sink":
        smtp_sink_main(int(sys.argv[2]), sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90, help="length of the load")
    parser.add_argument("--drain-seconds", type=float, default=300, help="time to empty queues")
    parser.add_argument("--claimants", type=int, default=6, help="claimants at a time")
    parser.add_argument("--caseworkers", type=int, default=2)
    parser.add_argument("--register", type=int, default=3000, help="people sent a notice")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--kill-worker", action="store_true",
                        help=f"kill worker-{KILLED_QUEUE} halfway and start it again")  # fmt: skip
    parser.add_argument("--report", type=Path, help="also write the report (Markdown) here")
    args = parser.parse_args()

    if (refused := bench_database_refusal(POSTGRES_URL)) is not None:
        return refused
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        print(f"SKIPPED: needs Redis; none reachable at {REDIS_URL}")
        return 0
    signal.signal(signal.SIGINT, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    from cryptography.fernet import Fernet

    work = Path(tempfile.mkdtemp(prefix="redress-notice-day-"))
    prefix = f"redress-bench-notice-day-{os.getpid()}:"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "submission_site.settings",  # Redress + the bare view
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "BANK_DETAILS_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"http://{HOST}:{port}",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(args.web_workers),
        # Plain HTTP on loopback: no HTTPS redirect, no cookies marked Secure.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_MANIFEST": "false",
        "LOG_FORMAT": "json",
        "DATABASE_URL": POSTGRES_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_BROKER_KEY_PREFIX": prefix,
        # A killed worker's unacknowledged messages come back within the run, and the
        # sweeper re-queues what is overdue; production keeps an hour and five minutes.
        "CELERY_VISIBILITY_TIMEOUT": "30",
        "OUTBOX_SWEEP_AFTER_SECONDS": "30",
        "EMAIL_URL": f"smtp://{HOST}:{free_port()}",
        "EMAIL_RETRY_SECONDS": "2",
        "NOTICE_CHUNK_SIZE": "50",
        "REDRESS_VAR_DIR": str(work / "var"),
        "MEDIA_ROOT": str(work / "media"),
    }
    os.environ.update(env)
    lines: list[str] = []
    try:
        recreate_database(POSTGRES_URL, create=True)
        lines = run(args, work, env, prefix)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        shutil.rmtree(work, ignore_errors=True)
        recreate_database(POSTGRES_URL, create=False)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.report:
        args.report.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
