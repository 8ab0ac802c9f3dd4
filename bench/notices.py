"""Notice campaign throughput, beside a trivial Celery task drained the same way, and the
cost a status update's enqueueing adds to the request that causes it.

One run, one Celery worker with 2 processes on Redis (the notices queue), and a
loopback SMTP sink (aiosmtpd, in a process of its own, counting what it receives):
1. COUNT trivial tasks published to the notices queue and drained by the worker;
2. a notice campaign to a register of COUNT people, planned, chunked and sent by the
   same worker to the sink until every person has had their one notice;
3. publishing one status update's task (what `transaction.on_commit` does once a
   claimant's request has committed), timed call by call; and with the broker down.
Prints figures; not a pass/fail test. Targets (issue 5): notices >= 0.2x the trivial
task rate; enqueueing adds <= 1 ms to a request.

    .venv/bin/python bench/notices.py [count]       # default 26,000: the demo register
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/redress_bench \
        .venv/bin/python bench/notices.py

SQLite by default (a file in a temporary folder), or BENCH_DATABASE_URL, on which it
creates and drops a database of its own (test_<name>). Redis: BENCH_REDIS_URL (default
redis://127.0.0.1:6379/9), under a key prefix of this run's own, deleted at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from celery import shared_task

ROOT = Path(__file__).resolve().parent.parent
BANK_DETAILS_TEST_KEY = "6CmIZqLhUz-uvjHzYTikSl4vI9L8kqs3tWDpgX0_fg4="  # a throwaway key


@shared_task(name="bench.noop")
def noop() -> None:
    """The trivial task. The worker imports this module for it (--include notices)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_sink(counter: Any, port: int, ready: Any) -> None:
    """A real SMTP server that accepts everything and counts it."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    Controller(Count(), hostname="127.0.0.1", port=port).start()
    ready.set()
    threading.Event().wait()


class Bench:
    def __init__(self, count: int) -> None:
        self.count = count
        self.workdir = Path(tempfile.mkdtemp(prefix="redress-bench-notices-"))
        self.redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
        self.prefix = f"redress-bench-{uuid.uuid4().hex[:8]}:"
        self.received = multiprocessing.Value("l", 0)
        self.smtp_port = free_port()

    def environment(self) -> None:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only"),
                "REDRESS_VAR_DIR": str(self.workdir / "var"),
                "CELERY_BROKER_URL": self.redis_url,
                "CELERY_BROKER_KEY_PREFIX": self.prefix,
                "BANK_DETAILS_KEYS": os.environ.get("BANK_DETAILS_KEYS", BANK_DETAILS_TEST_KEY),
                "STATIC_MANIFEST": "false",
                "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            }
        )
        os.environ.pop("REDIS_URL", None)
        if os.environ.get("BENCH_DATABASE_URL"):
            os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        else:
            os.environ.pop("DATABASE_URL", None)

    # --- Redis ------------------------------------------------------------------

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)

    def drained(self) -> bool:
        client = self.redis()
        return not (client.llen(f"{self.prefix}notices") or client.hlen(f"{self.prefix}unacked"))

    def wait_drained(self, deadline: float) -> None:
        while not self.drained():
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise SystemExit(f"the worker stalled:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.01)

    # --- The worker ---------------------------------------------------------------

    def start_worker(self) -> None:
        from django.db import connection

        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            database_url = f"sqlite:///{settings['NAME']}"
        else:
            password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
            host = f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}"
            database_url = f"postgres://{settings['USER']}{password}@{host}/{settings['NAME']}"
        self.log = self.workdir / "worker.log"
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "config", "worker", "--queues", "notices",
             "--concurrency", "2", "--pool", "prefork", "--loglevel", "WARNING",
             "--include", "notices", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url,
                 "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT}"},
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        from config.celery import app

        app.send_task("bench.noop", queue="notices")  # ready once it has run one
        self.wait_drained(time.monotonic() + 120)

    def stop_worker(self) -> None:
        self.worker.terminate()
        try:
            self.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.worker.kill()

    # --- The measurements ---------------------------------------------------------

    def trivial(self) -> float:
        from config.celery import app

        started = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for _ in range(self.count):
                app.send_task("bench.noop", queue="notices", producer=producer)
        published = time.perf_counter() - started
        self.wait_drained(time.monotonic() + 1800)
        elapsed = time.perf_counter() - started
        rate = self.count / elapsed
        print(f"trivial task: {self.count:,} published in {published:.1f}s, all done in "
              f"{elapsed:.1f}s = {rate:,.0f} tasks/s")  # fmt: skip
        return rate

    def campaign(self) -> float:
        from django.conf import settings
        from django.contrib.auth.models import Group, User

        from claims.actions import demo, notices
        from claims.domain import roles
        from claims.models import NoticeCampaign, RegisterEntry

        scheme = demo.create_demo_scheme(overrides={"slug": "bench-notices"})
        demo.fill_register(scheme, size=self.count)
        RegisterEntry.objects.filter(scheme=scheme).update(notice_sent_at=None)
        admin = User.objects.create(username="bench-admin", is_staff=True)
        admin.groups.add(Group.objects.get(name=roles.SCHEME_ADMINISTRATOR))
        admin = User.objects.get(pk=admin.pk)

        started = time.perf_counter()
        campaign = notices.notice_campaign_start(scheme_id=scheme.pk, user=admin)
        deadline = time.monotonic() + 3600
        while True:
            campaign.refresh_from_db()
            if campaign.state == NoticeCampaign.State.FINISHED:
                break
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise SystemExit(f"campaign unfinished, {self.received.value:,} received:\n"
                                 f"{self.log.read_text()[-3000:]}")  # fmt: skip
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        unsent = RegisterEntry.objects.filter(scheme=scheme, notice_sent_at__isnull=True).count()
        received = self.received.value
        rate = received / elapsed
        print(f"notices: {received:,} received by the SMTP sink in {elapsed:.1f}s = "
              f"{rate:,.0f}/s ({campaign.chunks_total} chunks of {settings.NOTICE_CHUNK_SIZE}; "
              f"recorded sent {campaign.sent:,}, failed {campaign.failed}, unsent {unsent}, "
              f"duplicates {received - campaign.sent})")  # fmt: skip
        return rate

    def enqueue_cost(self) -> None:
        from claims import outbox
        from config.celery import app

        up = []
        for pk in range(2000):
            started = time.perf_counter()
            assert outbox.publish(outbox.STATUS_UPDATE_TASK, pk)
            up.append((time.perf_counter() - started) * 1000)
        up.sort()
        print(f"enqueue, added to a request (one publish after its commit): median "
              f"{statistics.median(up):.3f} ms, p99 {up[int(len(up) * 0.99)]:.3f} ms, "
              f"max {up[-1]:.3f} ms (target <= 1 ms)")  # fmt: skip

        # The broker down: a port nobody listens on, as when Redis has stopped.
        saved = app.conf.broker_url
        dead = f"redis://127.0.0.1:{free_port()}/0"
        os.environ["CELERY_BROKER_URL"] = app.conf.broker_url = dead
        app._pool = None
        app.amqp._producer_pool = None
        down = []
        for pk in range(20):
            started = time.perf_counter()
            assert not outbox.publish(outbox.STATUS_UPDATE_TASK, pk)
            down.append((time.perf_counter() - started) * 1000)
        os.environ["CELERY_BROKER_URL"] = app.conf.broker_url = saved
        print(f"enqueue with the broker down (the row waits for the sweeper): median "
              f"{statistics.median(down):.0f} ms, max {max(down):.0f} ms")  # fmt: skip

    def run(self) -> None:
        self.environment()
        try:
            self.redis().ping()
        except Exception as error:
            print(f"skipped: no Redis at {self.redis_url} ({error})")
            return
        ready = multiprocessing.Event()
        sink = multiprocessing.Process(
            target=smtp_sink, args=(self.received, self.smtp_port, ready), daemon=True
        )
        sink.start()
        ready.wait(30)

        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        import logging

        logging.disable(logging.WARNING)  # the broker-down publishes log each failure
        from django.conf import settings
        from django.db import connection, connections
        from django.test.utils import setup_databases, teardown_databases

        if connection.vendor == "sqlite":
            settings.DATABASES["default"]["TEST"]["NAME"] = str(self.workdir / "db.sqlite3")
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            self.start_worker()
            print(f"== {self.count:,} each; worker: 2 processes; {connection.vendor}; "
                  f"Redis {self.redis_url}")  # fmt: skip
            trivial = self.trivial()
            notices = self.campaign()
            print(f"notices / trivial task: {notices / trivial:.2f}x (target >= 0.2x)")
            self.enqueue_cost()
        finally:
            if hasattr(self, "worker"):
                self.stop_worker()
            sink.terminate()
            for key in self.redis().scan_iter(f"{self.prefix}*"):
                self.redis().delete(key)
            connections.close_all()
            teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    Bench(int(sys.argv[1]) if len(sys.argv) > 1 else 26_000).run()
