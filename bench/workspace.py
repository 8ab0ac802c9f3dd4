"""How the caseworker workspace's cost grows with the work (issue 16).

Two databases, one of --small claims (10,000) and one of --large (1,000,000), each
served by its own gunicorn on loopback with PostgreSQL and the same code. Timed at
both sizes, in the same rounds: the claims list (first page), the queues "unassigned",
"my claims" and "overdue", and a search by reference. In the large database, the claim
page of a quiet claim (5 audit events, one head of loss, no messages) and of a busy one
(200 events, 20 heads of loss, 30 messages), both in assessment and assigned to the
signed-in caseworker. Beside them all, a bare Django view rendering a 12-field form.
Then, as before, an import of --register-rows register rows (1,000,000) beside a plain
COPY of the same rows, with the import's peak memory.

Targets (issue 16), read from the figures printed:
- each page's median and p99 with 1,000,000 claims within 1.3x its own with 10,000;
- each page's p99 within 3x the bare view's p99 in the same run;
- the busy claim's page within 1.5x the quiet claim's (median and p99).
The register import keeps issue 4's: within 2x the plain COPY, peak memory <= 320 MB.
Requests/s are printed for each page; they are not a target.

Every page is timed in --rounds rounds, each round every page at both sizes one after
the other and the bare view, the order reversed from one round to the next (so the
small database goes first in one round and the large one in the next): other load on
the machine falls on both sizes and on the bare view alike. Each page's load is bounded
by --requests and --max-seconds, spread over the rounds. Prints figures; not a
pass/fail test.

Needs PostgreSQL: it creates one database per size, named after BENCH_POSTGRES_URL's
(default postgres://postgres@127.0.0.1:5432/redress_bench_workspace) plus the size,
e.g. redress_bench_workspace_1000000 (the name must contain "bench"); fills them with
COPY (the claims, a head of loss each, 1% flagged) and through the real actions (the
two claims of the claim page, the staff); and drops them at the end, also on an error,
Ctrl-C or a plain kill; with no server it says so and stops. The cache is Redis at
BENCH_REDIS_URL (default redis://127.0.0.1:6379/0), as in production, under key
prefixes of this run's (one per size), removed at the end; the file cache if Redis is
not there.

    .venv/bin/python bench/workspace.py [--small 10000] [--large 1000000]
                                        [--register-rows 1000000] [--requests 2000]
                                        [--concurrency 4] [--workers 2] [--rounds 3]
                                        [--max-seconds 30] [--keep] [--reuse]

Filling a million claims takes minutes. While you iterate, --keep leaves both filled
databases in place at the end, and --reuse (which implies --keep) runs on the database
a kept run left for a size (it applies new migrations and skips that size's fill);
a size with no kept database is filled as usual. --register-rows 0 skips the import.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT), str(BENCH)]

# bench/ is on the path from here; these two import no Django at module level.
from staff_session import signed_in_session_key  # noqa: E402
from submission import (  # noqa: E402
    database_name,
    free_port,
    maintenance_url,
    percentile,
    postgres_reachable,
    raise_interrupt,
    recreate_database,
    redis_client,
)

BASE_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/redress_bench_workspace"
)
SETTINGS_MODULE = "workspace_site.settings"
# The cache as production has it (so the staff cache too), under key prefixes of this
# run's, one per size (the two databases' cached schemes and names must not meet),
# removed at the end; without Redis, the file cache.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
KEY_PREFIX = f"redress-bench-ws-{os.getpid()}"
HOST = "127.0.0.1"
BARE_PATH = "/bench/form/"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The claim page's two claims (issue 16).
QUIET_EVENTS = 5
BUSY_EVENTS, BUSY_HEADS, BUSY_MESSAGES = 200, 20, 30


def size_url(claims: int) -> str:
    """The database of the size `claims`: BASE_URL's name plus the size."""
    parts = urlsplit(BASE_URL)
    return urlunsplit(parts._replace(path=f"/{database_name(BASE_URL)}_{claims}"))


def size_label(claims: int) -> str:
    for unit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if claims >= unit and claims % unit == 0:
            return f"{claims // unit}{suffix}"
    return f"{claims:,}"


def environment(
    var_dir: Path, url: str, key_prefix: str, *, redis: bool, bank_key: str
) -> dict[str, str]:
    """The settings a fill, a gunicorn and the import run with, for the database at `url`."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "STATIC_MANIFEST": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_SSL_REDIRECT": "false",
        "REDRESS_VAR_DIR": str(var_dir),
        "BANK_DETAILS_KEYS": bank_key,
        "REDIS_URL": REDIS_URL if redis else "",
        "CACHE_KEY_PREFIX": key_prefix,
        "CELERY_BROKER_URL": "memory://",
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }


def now_load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


# --- Helpers ------------------------------------------------------------------------


def crockford(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        digits.append(CROCKFORD[digit])
    return "".join(reversed(digits))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


def defaults_for(model: Any, given: set[str]) -> dict[str, Any]:
    """Every other column of `model` with the value a new row gets by default."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        default = field.get_default()
        if default is None and not field.null and getattr(field, "auto_now", False):
            default = dt.datetime.now(dt.UTC)
        if default is None and not field.null and getattr(field, "auto_now_add", False):
            default = dt.datetime.now(dt.UTC)
        values[field.column] = default
    return values


def copy_rows(cursor: Any, table: str, columns: list[str], rows: Iterator[list[Any]]) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer: list[str] = []
        for row in rows:
            buffer.append("\t".join(copy_value(value) for value in row) + "\n")
            count += 1
            if len(buffer) >= 10000:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
    return count


# --- Data ---------------------------------------------------------------------------

FIRST = ["Ada", "Zoë", "Siobhán", "Łukasz", "Amara", "Tom", "Priya", "Owen", "Mei", "Kofi"]
LAST = ["Lovelace", "O'Brien", "Ní Bhriain", "Żółkowski", "Okafor", "Jones", "Patel", "Evans"]
POSTCODES = ["SW1A 1AA", "CF24 3AB", "LE1 6XY", "BT7 1ZZ", "M1 4BT", "LL57 1AB", "EC1A 1BB"]
# Where a million claims might stand in a scheme's second year.
STAGE_WEIGHTS = {
    "submitted": 4,
    "triage": 4,
    "assessment": 22,
    "information_requested": 8,
    "offer_pending_approval": 3,
    "offer_made": 9,
    "accepted": 4,
    "payment_pending": 2,
    "paid": 8,
    "closed": 22,
    "rejected": 6,
    "withdrawn": 4,
    "declined": 2,
    "review": 2,
}
BUSY_HEAD_CATEGORIES = [
    "unauthorised_transactions",
    "bank_charges",
    "card_replacement",
    "other_costs",
]


@dataclass
class Dataset:
    """What a fill made that the pages need; kept in the database for --reuse."""

    claims: int
    scheme_id: int
    caseworker_id: int
    search_reference: str
    quiet_claim_id: int
    busy_claim_id: int


DATASET_TABLE = "bench_workspace_dataset"


def remember(data: Dataset) -> None:
    """Note what fill() made, so a later --reuse run finds it again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {DATASET_TABLE} (claims integer, dataset jsonb)")
        cursor.execute(
            f"INSERT INTO {DATASET_TABLE} VALUES (%s, %s)",  # noqa: S608
            [data.claims, json.dumps(asdict(data))],
        )


def recall(url: str, claims: int) -> Dataset | None:
    """The dataset a kept run left in the database at `url` for `claims` claims, if any
    (None too for a database an older version of this bench kept)."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute(
                f"SELECT claims, dataset FROM {DATASET_TABLE}"  # noqa: S608
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or row[0] != claims:
        return None
    try:
        return Dataset(**row[1])
    except TypeError:
        return None


def fill(claims: int) -> Dataset:
    """A scheme, staff, `claims` claims with a head of loss each (COPY), 1% flagged, and
    the claim page's two claims made through the real actions."""
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from claims.actions.demo import ClaimStaff, create_demo_scheme
    from claims.domain import roles
    from claims.models import Claim, ClaimFlag, HeadOfLoss

    label = size_label(claims)
    scheme = create_demo_scheme()
    groups = {g.name: g for g in Group.objects.all()}
    staff_users = []
    for number in range(20):
        user = User.objects.create_user(f"cw{number}", f"cw{number}@bench.test", "x" * 20)
        user.is_staff = True
        user.save()
        user.groups.add(groups[roles.CASEWORKER])
        staff_users.append(user)
    caseworker = staff_users[0]
    senior = User.objects.create_user("senior", "senior@bench.test", "x" * 20, is_staff=True)
    senior.groups.add(groups[roles.SENIOR_CASEWORKER])
    finance = User.objects.create_user("finance", "finance@bench.test", "x" * 20, is_staff=True)
    finance.groups.add(groups[roles.FINANCE_OFFICER])

    rng = random.Random(2017)
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    now = dt.datetime.now(dt.UTC)
    given = {
        "scheme_id", "reference", "stage", "stage_changed_at", "version", "full_name", "email",
        "phone", "address", "postcode", "assigned_to_id", "submitted_at", "information_due",
        "created_at", "updated_at", "what_happened",
    }  # fmt: skip
    fixed = defaults_for(Claim, given)
    columns = [
        "scheme_id", "reference", "stage", "stage_changed_at", "version", "full_name", "email",
        "phone", "address", "postcode", "assigned_to_id", "submitted_at", "information_due",
        "created_at", "updated_at", "what_happened", *fixed,
    ]  # fmt: skip
    fixed_values = list(fixed.values())

    def claim_rows() -> Iterator[list[Any]]:
        for index in range(claims):
            stage = rng.choices(stages, weights)[0]
            created = now - dt.timedelta(days=rng.uniform(1, 400))
            changed = created + (now - created) * rng.random()
            first, last = rng.choice(FIRST), rng.choice(LAST)
            # An odd multiplier modulo 32^8 is a bijection: unique, scattered references.
            body = crockford((index * 2654435761 + 12345) % 32**8, 8)
            pick = rng.random()
            assigned = (
                caseworker.pk if pick < 0.05 else staff_users[index % 20].pk if pick < 0.7 else None
            )
            yield [
                scheme.pk,
                f"RDR-{body[:4]}-{body[4:]}",
                stage,
                changed,
                1,
                f"{first} {last}",
                f"{first.lower()}.{index}@example.com",
                f"07700 9{index % 100000:05d}",
                f"{index % 300} High Street\nTown",
                rng.choice(POSTCODES),
                assigned,
                created + dt.timedelta(hours=1),
                (changed + dt.timedelta(days=28)).date()
                if stage == "information_requested"
                else None,
                created,
                changed,
                "Someone used my card.",
                *fixed_values,
            ]

    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(raw, Claim._meta.db_table, columns, claim_rows())
        cursor.execute(f"SELECT min(id), max(id) FROM {Claim._meta.db_table}")  # noqa: S608
        first_id, last_id = cursor.fetchone()
        head_given = {"claim_id", "category", "amount_claimed", "description", "created_at"}
        head_fixed = defaults_for(HeadOfLoss, head_given)
        head_columns = ["claim_id", "category", "amount_claimed", "description", "created_at",
                        *head_fixed]  # fmt: skip
        head_values = list(head_fixed.values())
        copy_rows(
            raw,
            HeadOfLoss._meta.db_table,
            head_columns,
            (
                [claim_id, "unauthorised_transactions", f"{rng.randint(500, 400000) / 100:.2f}",
                 "Two payments I did not make", now, *head_values]
                for claim_id in range(first_id, last_id + 1)
            ),
        )  # fmt: skip
        flag_fixed = defaults_for(ClaimFlag, {"claim_id", "kind", "reason"})
        copy_rows(
            raw,
            ClaimFlag._meta.db_table,
            ["claim_id", "kind", "reason", *flag_fixed],
            (
                [claim_id, "high_amount", "Claims far above the typical claim",
                 *flag_fixed.values()]
                for claim_id in range(first_id, last_id + 1, 100)
            ),
        )  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"  {label}: filled {claims:,} claims, {claims:,} heads of loss and "
          f"{claims // 100:,} flags by COPY in {seconds:.1f} s "
          f"({claims / seconds:,.0f} claims/s)")  # fmt: skip
    # What autovacuum does to a table after a million inserts (it is off on some
    # servers): statistics for the planner and the visibility map that lets counts
    # read an index alone.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(f"  {label}: VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    staff = ClaimStaff(caseworker=caseworker, senior=senior, finance=finance)
    quiet_claim_id = quiet_claim(scheme, staff)
    busy_claim_id = busy_claim(scheme, staff, staff_users[1])
    print(f"  {label}: the claim page's two claims through the actions in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    search_reference = Claim.objects.values_list("reference", flat=True).get(
        pk=first_id + claims // 2
    )
    return Dataset(
        claims=claims,
        scheme_id=scheme.pk,
        caseworker_id=caseworker.pk,
        search_reference=search_reference.replace("-", "").lower(),
        quiet_claim_id=quiet_claim_id,
        busy_claim_id=busy_claim_id,
    )


def quiet_claim(scheme: Any, staff: Any) -> int:
    """A claim in assessment as a claimant and a caseworker leave it: started, one head
    of loss, submitted, triaged (which assigns it to the caseworker)."""
    from claims.actions.demo import advance_claim_to
    from claims.domain.stages import Stage

    claim = advance_claim_to(
        Stage.ASSESSMENT,
        scheme=scheme,
        staff=staff,
        claimant={"full_name": "Zoë O'Brien", "email": "zoe@example.com", "postcode": "cf243ab"},
    )
    top_up_events(claim.pk, QUIET_EVENTS, staff.caseworker, staff.caseworker)
    return int(claim.pk)


def busy_claim(scheme: Any, staff: Any, other_caseworker: Any) -> int:
    """A claim in assessment with a long history, each row written by the action that
    writes it in use: BUSY_HEADS heads of loss added by the claimant, submitted and
    triaged, BUSY_MESSAGES // 2 requests for information each answered, every head
    assessed, then passed between two caseworkers up to BUSY_EVENTS events, ending with
    the one signed in to the bench, as the quiet claim does."""
    from claims.actions import casework, submission
    from claims.actions.demo import take_step
    from claims.core import Actor
    from claims.models import HeadOfLoss

    claim = submission.claim_start(
        scheme=scheme, full_name="Łukasz Żółkowski", email="lukasz@example.com",
        postcode="ll571ab",
    )  # fmt: skip
    claimant = Actor.claimant(claim.pk)
    caseworker = Actor.staff(staff.caseworker)
    for number in range(1, BUSY_HEADS + 1):
        submission.head_of_loss_add(
            claim_id=claim.pk, actor=claimant,
            category=BUSY_HEAD_CATEGORIES[number % len(BUSY_HEAD_CATEGORIES)],
            amount_claimed=Decimal(5 + number % 7), description=f"Receipt {number:02d}",
            incurred_on=dt.date(2017, 3, 14),
        )  # fmt: skip
    for step in ("submit", "triage_start", "triage_accept"):
        take_step(claim, step, staff)
    for number in range(1, BUSY_MESSAGES // 2 + 1):
        casework.claim_request_information(
            claim_id=claim.pk, actor=caseworker,
            request=f"Question {number:02d}: please send the statement for that month.",
        )  # fmt: skip
        submission.claim_provide_information(
            claim_id=claim.pk, actor=claimant, response=f"Answer {number:02d}: attached."
        )
    for head in HeadOfLoss.objects.filter(claim_id=claim.pk).order_by("id"):
        casework.head_of_loss_assess(
            head_id=head.pk, actor=caseworker, amount_allowed=head.amount_claimed
        )
    top_up_events(claim.pk, BUSY_EVENTS, staff.caseworker, other_caseworker)
    return int(claim.pk)


def top_up_events(claim_id: int, events: int, caseworker: Any, other: Any) -> None:
    """Reassign the claim between `other` and `caseworker` (one audit event each, and
    nothing else on the page) until it has `events` events, ending with `caseworker`."""
    from claims.actions import casework
    from claims.core import Actor
    from claims.models import AuditEvent

    missing = events - AuditEvent.objects.filter(claim_id=claim_id).count()
    if missing < 0:
        raise RuntimeError(f"claim {claim_id} has {events - missing} events, not {events}")
    for left in range(missing, 0, -1):
        casework.claim_assign(
            claim_id=claim_id,
            actor=Actor.staff(caseworker),
            assignee=caseworker if left % 2 == 1 else other,
        )


def history(claim_id: int) -> str:
    from claims.models import AuditEvent, HeadOfLoss, Message

    counts = [
        (AuditEvent.objects.filter(claim_id=claim_id).count(), "event", "events"),
        (HeadOfLoss.objects.filter(claim_id=claim_id).count(), "head of loss", "heads of loss"),
        (Message.objects.filter(claim_id=claim_id).count(), "message", "messages"),
    ]
    return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)


def fill_child(claims: int, out: Path) -> None:
    """In a process of its own, with the environment of the size `claims`: migrate, fill
    (unless a kept run's data is there), sign the caseworker in; the dataset and the
    session cookie go to `out`."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command

    label = size_label(claims)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  {label}: migrated in {time.perf_counter() - started:.1f} s")
    data = recall(os.environ["DATABASE_URL"], claims)
    if data is None:
        data = fill(claims)
        remember(data)
    else:
        print(f"  {label}: reusing the {claims:,} claims a kept run left")
    print(f"  {label}: quiet claim {history(data.quiet_claim_id)}; "
          f"busy claim {history(data.busy_claim_id)}")  # fmt: skip
    caseworker = User.objects.get(pk=data.caseworker_id)
    cookie = f"{settings.SESSION_COOKIE_NAME}={signed_in_session_key(caseworker)}"
    out.write_text(json.dumps({"dataset": asdict(data), "cookie": cookie}))


# --- Load ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    claims: int  # in the database that serves it; 0 for the bare view
    path: str
    port: int
    cookie: str


@dataclass
class Result:
    requests: int
    seconds: float
    p50: float
    p99: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    headers = {"Cookie": cookie, "Host": HOST} if cookie else {"Host": HOST}
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def load(
    page: Page, *, requests: int, concurrency: int, max_seconds: float
) -> tuple[int, float, list[float], int]:
    """`requests` GETs from `concurrency` threads, stopping early after `max_seconds`."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        nonlocal errors, issued
        while True:
            with lock:
                if issued >= requests or time.perf_counter() > deadline:
                    return
                issued += 1
            began = time.perf_counter()
            try:
                ok = get(page.port, page.path, page.cookie)[0] == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - began
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), time.perf_counter() - started, latencies, errors


def measure_all(pages: list[Page], args: argparse.Namespace) -> dict[Page, Result]:
    """Every page, bare view included, in `args.rounds` rounds, the order reversed each
    round, so load from anything else on the machine falls on all of them (and on both
    sizes of each) alike rather than on whichever was timed when it came. `pages` lists
    each page's two sizes side by side, so a round times them one after the other, the
    small one first in one round and the large one first in the next. Each page is
    warmed up first."""
    for page in pages:
        load(page, requests=max(20, args.requests // 20), concurrency=args.concurrency,
             max_seconds=10)  # fmt: skip
    totals: dict[Page, tuple[int, float, list[float], int]] = {
        page: (0, 0.0, [], 0) for page in pages
    }
    for number in range(args.rounds):
        for page in pages[:: 1 if number % 2 == 0 else -1]:
            count, seconds, latencies, errors = load(
                page, requests=-(-args.requests // args.rounds),
                concurrency=args.concurrency, max_seconds=args.max_seconds / args.rounds,
            )  # fmt: skip
            done, took, seen, failed = totals[page]
            totals[page] = (done + count, took + seconds, seen + latencies, failed + errors)
        print(f"  round {number + 1} of {args.rounds} done; load average {now_load()}")
    results = {}
    for page, (count, seconds, latencies, errors) in totals.items():
        if not latencies:
            raise SystemExit(f"{page.name} ({size_label(page.claims)}): every request "
                             f"failed ({page.path})")  # fmt: skip
        results[page] = Result(count, seconds, percentile(latencies, 0.5),
                               percentile(latencies, 0.99), errors)  # fmt: skip
    return results


def check_claim_page(page: Page, markers: list[str]) -> int:
    """The claim page's size in bytes, having checked that it draws every head of loss
    and message of the claim (by their texts)."""
    status, body = get(page.port, page.path, page.cookie)
    if status != 200:
        raise SystemExit(f"{page.name}: status {status} ({page.path})")
    text = body.decode()
    missing = [marker for marker in markers if marker not in text]
    if missing:
        print(f"  WARNING: {page.name} does not show {len(missing)} of its "
              f"{len(markers)} heads of loss and messages, e.g. {missing[0]!r}")  # fmt: skip
    return len(body)


def ratio(large: float, small: float) -> str:
    return f"{large / small:.2f}x" if small else "-"


def report(
    results: dict[Page, Result], list_pages: list[str], args: argparse.Namespace,
    claim_pages: tuple[Page, Page], page_bytes: tuple[int, int],
) -> None:  # fmt: skip
    small, large = size_label(args.small), size_label(args.large)
    by_key = {(page.name, page.claims): result for page, result in results.items()}
    bare = by_key[("bare view: 12-field form", 0)]

    print(f"\n  How each page grows from {args.small:,} to {args.large:,} claims "
          f"(target: {large}/{small} within 1.30x)")  # fmt: skip
    growth = f"{large}/{small}"
    print(f"  {'page':<26} {'p50 ' + small:>9} {'p50 ' + large:>9} {growth:>8} "
          f"{'p99 ' + small:>9} {'p99 ' + large:>9} {growth:>8}   (ms)")  # fmt: skip
    for name in list_pages:
        low, high = by_key[(name, args.small)], by_key[(name, args.large)]
        print(f"  {name:<26} {low.p50 * 1000:>9.1f} {high.p50 * 1000:>9.1f} "
              f"{ratio(high.p50, low.p50):>8} {low.p99 * 1000:>9.1f} {high.p99 * 1000:>9.1f} "
              f"{ratio(high.p99, low.p99):>8}")  # fmt: skip

    quiet, busy = (results[page] for page in claim_pages)
    print(f"\n  The claim page against its history, with {args.large:,} claims "
          f"(target: busy within 1.50x quiet)")  # fmt: skip
    print(f"  {'claim':<44} {'p50 ms':>8} {'p99 ms':>8} {'KB':>6}")
    for label, result, size in (
        (f"quiet: {QUIET_EVENTS} events, 1 head of loss, 0 messages", quiet, page_bytes[0]),
        (f"busy: {BUSY_EVENTS} events, {BUSY_HEADS} heads, {BUSY_MESSAGES} messages", busy,
         page_bytes[1]),
    ):  # fmt: skip
        print(f"  {label:<44} {result.p50 * 1000:>8.1f} {result.p99 * 1000:>8.1f} "
              f"{size / 1024:>6.0f}")  # fmt: skip
    print(f"  {'busy / quiet':<44} {ratio(busy.p50, quiet.p50):>8} "
          f"{ratio(busy.p99, quiet.p99):>8}")  # fmt: skip

    print("\n  Each page beside the bare view in the same rounds "
          "(target: p99 within 3.00x the bare view's)")  # fmt: skip
    print(f"  {'page':<30} {'claims':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'x bare p99':>10}  errors")  # fmt: skip
    for page, result in results.items():
        claims = size_label(page.claims) if page.claims else "-"
        print(f"  {page.name:<30} {claims:>9} {result.rate:>7.0f} {result.p50 * 1000:>7.1f} "
              f"{result.p99 * 1000:>7.1f} {ratio(result.p99, bare.p99):>10}  "
              f"{result.errors}")  # fmt: skip


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> Iterator[None]:
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(  # noqa: S603
        [binary, "config.wsgi:application", "--bind", f"{HOST}:{port}", "--workers",
         str(workers), "--worker-class", "sync", "--log-level", "warning",
         "--error-logfile", str(log)],
        env={**os.environ, **env},
        cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped: see {log}")
            time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


# --- Register import --------------------------------------------------------------------


def write_register(path: Path, rows: int) -> None:
    rng = random.Random(26000)
    used: set[int] = set()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notice_code", "full_name", "email", "address", "postcode", "external_id"])
        for index in range(rows):
            number = rng.getrandbits(60)
            while number in used:
                number = rng.getrandbits(60)
            used.add(number)
            code = crockford(number, 12)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow([
                f"{code[:4]}-{code[4:8]}-{code[8:]}", f"{first} {last}",
                f"{first.lower()}.{index}@example.com", f"{index % 300} High Street\nTown",
                rng.choice(POSTCODES), f"DF{index:07d}",
            ])  # fmt: skip


def plain_copy(path: Path, scheme_id: int) -> float:
    """The same file through COPY into a copy of the register table: same indexes, same
    unique constraint, same foreign key, no checks of ours."""
    from django.db import connection
    from psycopg import sql as psycopg_sql

    from claims.models import RegisterEntry

    table = RegisterEntry._meta.db_table
    csv_columns = ["notice_code", "full_name", "email", "address", "postcode", "external_id"]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS bench_register; CREATE TABLE bench_register "
                       f"(LIKE {table} INCLUDING ALL)")  # fmt: skip
        cursor.execute("ALTER TABLE bench_register ADD FOREIGN KEY (scheme_id) "
                       "REFERENCES claims_scheme (id) DEFERRABLE INITIALLY DEFERRED")  # fmt: skip
        for column, value in defaults_for(RegisterEntry, set(csv_columns)).items():
            if column == "scheme_id":
                value = scheme_id
            if value is None:
                continue
            # A literal: DDL takes no parameters (and prepared statements send them apart).
            default = psycopg_sql.Literal(value).as_string(connection.connection)
            cursor.execute(
                f"ALTER TABLE bench_register ALTER COLUMN {column} SET DEFAULT {default}"
            )
        cursor.execute("ALTER TABLE bench_register ALTER COLUMN created_at SET DEFAULT now()")
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        path.open("rb") as handle,
        cursor.cursor.copy(
            f"COPY bench_register ({', '.join(csv_columns)}) FROM STDIN "
            "WITH (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        while block := handle.read(1 << 20):
            copy.write(block)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_register")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_register")
    print(f"  plain COPY: {copied:,} rows in {seconds:.2f} s")
    return seconds


def import_child(path: str, scheme_id: int, username: str) -> None:
    """Run in a fresh process, so its peak memory is the import's alone."""
    import django

    django.setup()
    from django.contrib.auth.models import User

    from claims.actions.register import register_import
    from claims.core import Actor

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    user = User.objects.get(username=username)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        result = register_import(scheme_id=scheme_id, upload=handle, actor=Actor.staff(user))
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds, "imported": result.imported, "errors": result.error_count,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "baseline_kb": baseline,
    }))  # fmt: skip


def import_bench(rows: int, scheme_id: int, env: dict[str, str], tmp: Path) -> None:
    from django.contrib.auth.models import Group, User

    from claims.domain import roles

    admin, _ = User.objects.get_or_create(
        username="schemeadmin", defaults={"email": "sa@bench.test", "is_staff": True}
    )
    admin.groups.add(Group.objects.get(name=roles.SCHEME_ADMINISTRATOR))
    path = tmp / "register.csv"
    started = time.perf_counter()
    write_register(path, rows)
    print(f"  wrote {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    copy_seconds = plain_copy(path, scheme_id)
    child = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--import-child", str(path), str(scheme_id), admin.username],
        env={**os.environ, **env}, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    peak_mb = figures["peak_kb"] / 1024
    print(f"  register_import: {figures['imported']:,} rows in {figures['seconds']:.2f} s, "
          f"{figures['errors']} errors; peak memory {peak_mb:.0f} MB "
          f"(Django alone {figures['baseline_kb'] / 1024:.0f} MB)")  # fmt: skip
    ratio = figures["seconds"] / copy_seconds
    print(f"  import / COPY = {ratio:.2f}x (target <= 2x); peak {peak_mb:.0f} MB "
          f"(target <= 320 MB)")  # fmt: skip


# --- Main ---------------------------------------------------------------------------------

LIST_PAGES = [
    ("claims list, first page", "/admin/claims/claim/"),
    # The queues are claims/staff/claims.py's QueueFilter (?queue=, claims.queries.queues.QUEUES).
    ("queue: unassigned", "/admin/claims/claim/?queue=unassigned"),
    ("queue: my claims", "/admin/claims/claim/?queue=mine"),
    ("queue: overdue", "/admin/claims/claim/?queue=overdue"),
]
SEARCH_PAGE = "search by reference"


def fill_sizes(sizes: list[int], envs: dict[int, dict[str, str]], tmp: Path) -> dict[int, Any]:
    """Each size's database filled (or recalled) by a child process of its own, one
    after the other; each size's dataset and signed-in cookie."""
    filled = {}
    for claims in sizes:
        out = tmp / f"dataset-{claims}.json"
        subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--fill-child", str(claims), str(out)],
            env={**os.environ, **envs[claims]}, check=True, cwd=ROOT,
        )  # fmt: skip
        filled[claims] = json.loads(out.read_text())
    return filled


def pages_for(
    filled: dict[int, Any], ports: dict[int, int], args: argparse.Namespace
) -> list[Page]:
    """The bare view, each list page at both sizes side by side, then the claim pages."""
    pages = [Page("bare view: 12-field form", 0, BARE_PATH, ports[args.large], "")]
    for name, path in LIST_PAGES:
        for claims in (args.small, args.large):
            pages.append(Page(name, claims, path, ports[claims], filled[claims]["cookie"]))
    for claims in (args.small, args.large):
        reference = filled[claims]["dataset"]["search_reference"]
        pages.append(Page(SEARCH_PAGE, claims, f"/admin/claims/claim/?q={reference}",
                          ports[claims], filled[claims]["cookie"]))  # fmt: skip
    large = filled[args.large]
    for name, key in (("claim page, quiet claim", "quiet_claim_id"),
                      ("claim page, busy claim", "busy_claim_id")):  # fmt: skip
        path = f"/admin/claims/claim/{large['dataset'][key]}/change/"
        pages.append(Page(name, args.large, path, ports[args.large], large["cookie"]))
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="claims in the small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="claims in the large one")
    parser.add_argument("--register-rows", type=int, default=1_000_000, help="0: no import")
    parser.add_argument("--requests", type=int, default=2000, help="timed GETs per page and size")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers per size"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=30.0, help="time limit per page and size"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per page")
    parser.add_argument(
        "--keep", action="store_true", help="leave the filled databases in place at the end"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="run on the databases a --keep run filled (implies --keep)",
    )
    parser.add_argument("--import-child", nargs=3, metavar=("CSV", "SCHEME", "USER"))
    parser.add_argument("--fill-child", nargs=2, metavar=("CLAIMS", "OUT"))
    args = parser.parse_args()
    args.keep = args.keep or args.reuse
    if args.import_child:
        path, scheme_id, username = args.import_child
        import_child(path, int(scheme_id), username)
        return 0
    if args.fill_child:
        fill_child(int(args.fill_child[0]), Path(args.fill_child[1]))
        return 0
    if not 0 < args.small < args.large:
        parser.error("--small must be more than 0 and less than --large")
    sizes = [args.small, args.large]
    urls = {claims: size_url(claims) for claims in sizes}
    for url in urls.values():
        if "bench" not in database_name(url):
            print(f"Refusing to create and drop {database_name(url)!r}: not a bench name.")
            return 2
    if not postgres_reachable(BASE_URL):
        print(f"SKIPPED: no PostgreSQL at {maintenance_url(BASE_URL)}; this bench needs one.")
        return 0

    # Output in order with the children's, also into a pipe.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    # Ctrl-C and a plain kill both clean up (SIGINT too, even when started in the background).
    signal.signal(signal.SIGINT, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)
    from cryptography.fernet import Fernet

    redis = redis_client(REDIS_URL)
    tmp = Path(tempfile.mkdtemp(prefix="redress-bench-workspace-"))
    bank_key = os.environ.get("BANK_DETAILS_KEYS", Fernet.generate_key().decode())
    for claims in sizes:
        # Or whitenoise warns in every worker that STATIC_ROOT is missing.
        (tmp / f"var-{claims}" / "static").mkdir(parents=True)
    envs = {
        claims: environment(tmp / f"var-{claims}", urls[claims], f"{KEY_PREFIX}-{claims}",
                            redis=redis is not None, bank_key=bank_key)
        for claims in sizes
    }  # fmt: skip
    try:
        cache = "Redis cache" if redis is not None else "file cache (no Redis at BENCH_REDIS_URL)"
        print(f"== Caseworker workspace bench, {args.small:,} and {args.large:,} claims "
              f"({os.cpu_count()} cores, gunicorn {args.workers} sync workers per size, "
              f"{cache}, {args.concurrency} clients; load average {now_load()})")  # fmt: skip
        for claims in sizes:
            if not (args.reuse and recall(urls[claims], claims)):
                recreate_database(urls[claims], create=True)
        started = time.perf_counter()
        filled = fill_sizes(sizes, envs, tmp)
        print(f"  databases ready in {time.perf_counter() - started:.0f} s")

        ports = {claims: free_port() for claims in sizes}
        pages = pages_for(filled, ports, args)
        with contextlib.ExitStack() as servers:
            for claims in sizes:
                servers.enter_context(
                    gunicorn(
                        envs[claims], ports[claims], args.workers, tmp / f"gunicorn-{claims}.log"
                    )
                )
            claim_pages = (pages[-2], pages[-1])
            page_bytes = (
                check_claim_page(claim_pages[0], ["Two payments I did not make"]),
                check_claim_page(claim_pages[1], [
                    *(f"Receipt {n:02d}" for n in range(1, BUSY_HEADS + 1)),
                    *(f"Question {n:02d}:" for n in range(1, BUSY_MESSAGES // 2 + 1)),
                    *(f"Answer {n:02d}:" for n in range(1, BUSY_MESSAGES // 2 + 1)),
                ]),
            )  # fmt: skip
            started = time.perf_counter()
            results = measure_all(pages, args)
            print(f"  timed {len(pages)} pages in {time.perf_counter() - started:.0f} s")
        report(results, [name for name, _ in LIST_PAGES] + [SEARCH_PAGE], args, claim_pages,
               page_bytes)  # fmt: skip
        print(f"  load average after the pages: {now_load()}\n")

        if args.register_rows:
            # The import runs in the large database, as a scheme's register would.
            os.environ.update(envs[args.large])
            import django

            django.setup()
            from claims.models import RegisterEntry, Scheme

            scheme_id = filled[args.large]["dataset"]["scheme_id"]
            # A kept database may hold a previous run's import.
            RegisterEntry.objects.filter(scheme__slug="bench-import")._raw_delete("default")
            Scheme.objects.filter(slug="bench-import").delete()
            import_scheme = Scheme.objects.create(
                **{
                    f.name: getattr(Scheme.objects.get(pk=scheme_id), f.name)
                    for f in Scheme._meta.concrete_fields
                    if not f.primary_key and f.name not in {"slug", "created_at"}
                },
                slug="bench-import",
            )
            import_bench(args.register_rows, import_scheme.pk, envs[args.large], tmp)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not stop the clean-up half way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)
        if redis is not None:
            for key in redis.scan_iter(match=f"{KEY_PREFIX}-*"):
                redis.delete(key)
        for claims in sizes:
            name = database_name(urls[claims])
            if args.keep:
                print(f"  kept {name} (a run without --keep drops it)")
            else:
                recreate_database(urls[claims], create=False)
                print(f"  dropped {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
