"""Stage-machine cost: a claim's transitions through the services, beside the bare
writes one transition must make (one UPDATE and two INSERTs in a transaction).

Prints figures; not a pass/fail test. Runs on a throwaway SQLite database by
default, or on BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/redress_bench,
which it creates and drops).

    .venv/bin/python bench/stage_machine.py [claims]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["REDRESS_VAR_DIR"] = tempfile.mkdtemp(prefix="redress-bench-")
if os.environ.get("BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
else:
    os.environ.pop("DATABASE_URL", None)

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

STEPS = ["submit", "triage_start", "triage_accept", "offer_make", "offer_accept"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def main(count: int) -> None:
    from claims.actions.demo import advance_claim_to  # noqa: F401  (imported to warm the module)
    from claims.domain.stages import Stage
    from claims.models import AuditEvent, Claim, StatusUpdate
    from tests.support.factories import People, SchemeFactory, claim_in_stage, take_step

    scheme = SchemeFactory()
    people = People()
    claims = [claim_in_stage(Stage.DRAFT, scheme=scheme, people=people) for _ in range(count)]

    service_times: list[float] = []
    started = time.perf_counter()
    for claim in claims:
        for step in STEPS:
            t0 = time.perf_counter()
            take_step(Claim.objects.get(pk=claim.pk), step, people)
            service_times.append(time.perf_counter() - t0)
    service_total = time.perf_counter() - started

    bare_times: list[float] = []
    started = time.perf_counter()
    for claim in claims:
        for _ in STEPS:
            t0 = time.perf_counter()
            with transaction.atomic():
                Claim.objects.filter(pk=claim.pk).update(version=claim.version + 1)
                event = AuditEvent.objects.create(
                    claim_id=claim.pk, action="bench", actor_kind="system"
                )
                StatusUpdate.objects.create(
                    claim_id=claim.pk, event=event, kind="bench", stage=Stage.DRAFT
                )
            bare_times.append(time.perf_counter() - t0)
    bare_total = time.perf_counter() - started

    n = len(service_times)
    print(f"database: {connection.vendor}; {count} claims × {len(STEPS)} moves = {n} moves")
    for name, times, total in (
        ("services (lock, checks, audit, outbox)", service_times, service_total),
        ("bare writes (update + 2 inserts)", bare_times, bare_total),
    ):
        print(
            f"  {name:40s} {n / total:8.1f} moves/s   p50 {statistics.median(times) * 1000:6.2f} ms"
            f"   p99 {percentile(times, 0.99) * 1000:6.2f} ms"
        )
    print(f"  services cost {service_total / bare_total:.2f}× the bare writes")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        main(count)
    finally:
        teardown_databases(old_config, verbosity=0)
