"""The caseworker workspace with a million claims: the claims list (first page, a
filtered queue, a reference search) and a claim page, served by gunicorn + PostgreSQL
on loopback, each timed beside a bare Django view rendering a 12-field form in the
same run; then an import of 1,000,000 register rows beside a plain COPY of the same
rows, with the import's peak memory.

Targets (issue 4): each page >= 0.5x the bare view's requests/s and p99 <= 3x its p99;
the import within 2x the COPY, peak memory <= 320 MB.

Needs PostgreSQL: it creates postgres://postgres@127.0.0.1:5432/redress_bench_workspace
(or BENCH_POSTGRES_URL; the name must contain "bench"), fills it with COPY, and drops it
at the end, also on an error or Ctrl-C; with no server it says so and stops. The cache
is Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/0), as in production, under
a key prefix of its own removed at the end; the file cache if Redis is not there. Everything
runs on 127.0.0.1; each page's load is bounded by --requests and --max-seconds, and is
timed in --rounds alternating rounds with the bare view, so other load on the machine
falls on every page alike. Prints figures; not a pass/fail test.

    .venv/bin/python bench/workspace.py [--claims 1000000] [--register-rows 1000000]
                                        [--requests 2000] [--concurrency 4] [--workers 2]
                                        [--rounds 3] [--keep] [--reuse]

Filling a million claims takes minutes. While you iterate, --keep leaves the filled
database in place at the end, and --reuse (which implies --keep) runs on a database a
kept run left for the same --claims: it applies new migrations and skips the fill.
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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT), str(BENCH)]

from staff_session import signed_in_session_key  # noqa: E402  (bench/ is on the path from here)

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/redress_bench_workspace"
)
SETTINGS_MODULE = "workspace_site.settings"
# The cache as production has it (so sessions and the staff cache too), under a key
# prefix of this run's, removed at the end; without Redis, the file cache.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
KEY_PREFIX = f"redress-bench-ws-{os.getpid()}"
HOST = "127.0.0.1"
BARE_PATH = "/bench/form/"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def environment(var_dir: str) -> dict[str, str]:
    """The settings both this process and gunicorn run with."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
        "DATABASE_URL": POSTGRES_URL,
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "STATIC_MANIFEST": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_SSL_REDIRECT": "false",
        "REDRESS_VAR_DIR": var_dir,
        "BANK_DETAILS_KEYS": os.environ.get("BANK_DETAILS_KEYS", Fernet.generate_key().decode()),
        "REDIS_URL": REDIS_URL if redis_client() is not None else "",
        "CACHE_KEY_PREFIX": KEY_PREFIX,
        "CELERY_BROKER_URL": "memory://",
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }


# --- Helpers ------------------------------------------------------------------------


def redis_client() -> Any:
    from submission import redis_client as reachable  # one probe for both benches

    return reachable(REDIS_URL)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str, *, create: bool) -> None:
    import psycopg

    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: a bench database's name contains 'bench'.")
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')


def postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(maintenance_url(url), connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


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
INFO_REQUESTED = "information_requested"
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


@dataclass
class Dataset:
    scheme_id: int
    caseworker: Any
    page_claim_id: int
    search_reference: str


DATASET_TABLE = "bench_workspace_dataset"


def remember(data: Dataset, claims: int) -> None:
    """Note what fill() made, so a later --reuse run finds it again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {DATASET_TABLE} (claims integer, scheme_id bigint, "
            "caseworker_id integer, page_claim_id bigint, search_reference text)"
        )
        cursor.execute(
            f"INSERT INTO {DATASET_TABLE} VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
            [claims, data.scheme_id, data.caseworker.pk, data.page_claim_id,
             data.search_reference],
        )  # fmt: skip


def recall(url: str, claims: int) -> Dataset | None:
    """The dataset a kept run left in the database at `url` for `claims` claims, if any."""
    import psycopg
    from django.contrib.auth.models import User

    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute(
                f"SELECT claims, scheme_id, caseworker_id, page_claim_id, search_reference "  # noqa: S608
                f"FROM {DATASET_TABLE}"
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or row[0] != claims:
        return None
    return Dataset(row[1], User.objects.get(pk=row[2]), row[3], row[4])


def fill(claims: int) -> Dataset:
    """A scheme, staff, `claims` claims with a head of loss each (COPY), 1% flagged, and
    one claim made through the real services with a full history for the claim page."""
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from claims.actions import casework
    from claims.actions.demo import ClaimStaff, advance_claim_to, create_demo_scheme
    from claims.core import Actor
    from claims.domain import roles
    from claims.domain.stages import Stage
    from claims.models import Claim, ClaimFlag, HeadOfLoss

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
    print(f"  filled {claims:,} claims, {claims:,} heads of loss and {claims // 100:,} flags "
          f"by COPY in {time.perf_counter() - started:.1f} s")  # fmt: skip
    # What autovacuum does to a table after a million inserts (it is off on some
    # servers): statistics for the planner and the visibility map that lets counts
    # read an index alone.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(f"  VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")

    # The claim page's claim: a real history through the services, and a busy one.
    staff = ClaimStaff(caseworker=caseworker, senior=senior, finance=finance)
    page_claim = advance_claim_to(
        Stage.ASSESSMENT,
        scheme=scheme,
        staff=staff,
        claimant={"full_name": "Zoë O'Brien", "email": "zoe@example.com", "postcode": "cf243ab"},
    )
    for number in range(8):
        page_claim.heads_of_loss.create(
            category=HeadOfLoss.Category.OTHER_COSTS, amount_claimed=Decimal("12.50"),
            description=f"Receipt {number}",
        )  # fmt: skip
    for number in range(10):
        casework.note_add(
            claim_id=page_claim.pk,
            actor=Actor.staff(caseworker),
            text=f"Called the bank ({number})",
        )
    search_reference = Claim.objects.values_list("reference", flat=True).get(
        pk=first_id + claims // 2
    )
    return Dataset(scheme.pk, caseworker, page_claim.pk, search_reference.replace("-", "").lower())


def session_cookie(user: Any) -> str:
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={signed_in_session_key(user)}"


# --- Load ----------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50: float
    p99: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load(
    port: int, path: str, cookie: str, *, requests: int, concurrency: int, max_seconds: float
) -> tuple[int, float, list[float], int]:
    """`requests` GETs from `concurrency` threads, stopping early after `max_seconds`."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds
    headers = {"Cookie": cookie, "Host": HOST} if cookie else {"Host": HOST}

    def worker() -> None:
        nonlocal errors, issued
        while True:
            with lock:
                if issued >= requests or time.perf_counter() > deadline:
                    return
                issued += 1
            began = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                connection.close()
                ok = response.status == 200
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


def measure_all(
    port: int, pages: list[tuple[str, str, str]], args: argparse.Namespace
) -> list[Result]:
    """Every page, bare view included, in `args.rounds` rounds, the order reversed each
    round, so load from anything else on the machine falls on all of them alike rather
    than on whichever page was timed when it came. Each page is warmed up first."""
    for _, path, cookie in pages:
        load(port, path, cookie, requests=max(20, args.requests // 20),
             concurrency=args.concurrency, max_seconds=10)  # fmt: skip
    totals = {name: (0, 0.0, [], 0) for name, _, _ in pages}
    for number in range(args.rounds):
        for name, path, cookie in pages[:: 1 if number % 2 == 0 else -1]:
            count, seconds, latencies, errors = load(
                port, path, cookie, requests=-(-args.requests // args.rounds),
                concurrency=args.concurrency, max_seconds=args.max_seconds / args.rounds,
            )  # fmt: skip
            done, took, seen, failed = totals[name]
            totals[name] = (done + count, took + seconds, seen + latencies, failed + errors)
    results = []
    for name, path, _ in pages:
        count, seconds, latencies, errors = totals[name]
        if not latencies:
            raise SystemExit(f"{name}: every request failed ({path})")
        results.append(Result(name, count, seconds, percentile(latencies, 0.5),
                              percentile(latencies, 0.99), errors))  # fmt: skip
    return results


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--register-rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per page")
    parser.add_argument(
        "--keep", action="store_true", help="leave the filled database in place at the end"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="run on a database a --keep run filled (implies --keep)",
    )
    parser.add_argument("--import-child", nargs=3, metavar=("CSV", "SCHEME", "USER"))
    args = parser.parse_args()
    args.keep = args.keep or args.reuse
    if args.import_child:
        path, scheme_id, username = args.import_child
        import_child(path, int(scheme_id), username)
        return

    if not postgres_reachable(POSTGRES_URL):
        print(f"SKIPPED: no PostgreSQL at {maintenance_url(POSTGRES_URL)}; this bench needs one.")
        return
    tmp = Path(tempfile.mkdtemp(prefix="redress-bench-workspace-"))
    env = environment(str(tmp / "var"))
    os.environ.update(env)
    import django

    django.setup()
    data = recall(POSTGRES_URL, args.claims) if args.reuse else None
    if data is None:
        recreate_database(POSTGRES_URL, create=True)
    try:
        from django.core.management import call_command
        from django.db import connection

        cache = "Redis cache" if env["REDIS_URL"] else "file cache (no Redis at BENCH_REDIS_URL)"
        print(f"== Caseworker workspace bench on {database_name(POSTGRES_URL)} "
              f"({os.cpu_count()} cores, gunicorn {args.workers} sync workers, {cache}, "
              f"{args.concurrency} clients; load average "
              f"{' '.join(f'{n:.2f}' for n in os.getloadavg())})")  # fmt: skip
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrated in {time.perf_counter() - started:.1f} s")
        if data is None:
            data = fill(args.claims)
            remember(data, args.claims)
        else:
            print(f"  reusing the {args.claims:,} claims a kept run left")
        cookie = session_cookie(data.caseworker)
        connection.close()

        port = free_port()
        pages = [
            ("bare view: 12-field form", BARE_PATH, ""),
            ("claims list, first page", "/admin/claims/claim/", cookie),
            ("queue: unassigned", "/admin/claims/claim/?queue=unassigned", cookie),
            ("queue: my claims", "/admin/claims/claim/?queue=mine", cookie),
            ("search by reference", f"/admin/claims/claim/?q={data.search_reference}", cookie),
            ("claim page", f"/admin/claims/claim/{data.page_claim_id}/change/", cookie),
        ]
        with gunicorn(env, port, args.workers, tmp / "gunicorn.log"):
            results = measure_all(port, pages, args)
        bare = results[0]
        print(f"\n  {'page':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'x bare req/s':>13} {'x bare p99':>11}  errors")  # fmt: skip
        for result in results:
            print(f"  {result.name:<28} {result.rate:>8.0f} {result.p50 * 1000:>8.1f} "
                  f"{result.p99 * 1000:>8.1f} {result.rate / bare.rate:>13.2f} "
                  f"{result.p99 / bare.p99:>11.2f}  {result.errors}")  # fmt: skip
        print("  targets: >= 0.50x the bare view's requests/s, p99 <= 3.00x its p99")
        print(f"  load average after the pages: "
              f"{' '.join(f'{n:.2f}' for n in os.getloadavg())}\n")  # fmt: skip

        if args.register_rows:
            from claims.models import RegisterEntry, Scheme

            # A kept database may hold a previous run's import.
            RegisterEntry.objects.filter(scheme__slug="bench-import")._raw_delete("default")
            Scheme.objects.filter(slug="bench-import").delete()
            import_scheme = Scheme.objects.create(
                **{
                    f.name: getattr(Scheme.objects.get(pk=data.scheme_id), f.name)
                    for f in Scheme._meta.concrete_fields
                    if not f.primary_key and f.name not in {"slug", "created_at"}
                },
                slug="bench-import",
            )
            import_bench(args.register_rows, import_scheme.pk, env, tmp)
    except KeyboardInterrupt:
        print("interrupted")
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)
        if (redis := redis_client()) is not None:
            for key in redis.scan_iter(match=f"{KEY_PREFIX}:*"):
                redis.delete(key)
        if args.keep:
            print(f"  kept {database_name(POSTGRES_URL)} (a run without --keep drops it)")
        else:
            recreate_database(POSTGRES_URL, create=False)
            print(f"  dropped {database_name(POSTGRES_URL)}")


if __name__ == "__main__":
    main()
