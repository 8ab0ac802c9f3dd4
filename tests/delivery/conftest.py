"""A real Celery worker (a subprocess, prefork, 2 processes) on Redis, delivering to a real
SMTP server on loopback (aiosmtpd, in this process).

The worker is another process, so the tests that use it commit their data
(`pytest.mark.django_db(transaction=True, serialized_rollback=True)`, declared in each
module so pytest-django runs them after the ordinary tests) to a database it can open:
a file on SQLite (tests/conftest.py), this run's test database on PostgreSQL. Each test
has a broker namespace of its own (a Redis key prefix, and a Redis database per xdist
worker), so parallel tests, and other people's test runs on the same Redis, never take
each other's tasks.

Waiting is always for a condition, with a deadline; never a bare sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from aiosmtpd.controller import Controller
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
QUEUES = "notifications,notices,letters,housekeeping"


def wait_for(condition: Callable[[], Any], *, timeout: float = 20, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what or condition}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- The SMTP server -------------------------------------------------------------


@dataclass
class SmtpSink:
    """What a real SMTP server received, and ways to make it misbehave."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    # Refuse the next N messages at DATA with this reply (a provider saying "later").
    refusals: int = 0
    refusal: str = "451 4.3.0 Try again later"
    # Hold the next conversation at RCPT until `release` is set (a slow provider).
    stall_next: bool = False
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    stall_over: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait_for_count(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        wait_for(lambda: self.count() >= count, timeout=timeout, what=f"{count} email(s)")
        with self.lock:
            return list(self.messages)

    # aiosmtpd handler hooks -------------------------------------------------------

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:  # fmt: skip
        if self.stall_next:
            self.stall_next = False
            self.stalled.set()
            try:
                while not self.release.is_set():
                    if server.transport is None or server.transport.is_closing():
                        return "421 4.4.2 Connection lost"  # the client is gone: nothing sent
                    await asyncio.sleep(0.01)
            finally:
                # aiosmtpd cancels a dead client's handler: that too ends the stall.
                self.stall_over.set()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            self.refusals -= 1
            return self.refusal
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 2.0.0 OK"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    sink.release.set()
    controller.stop()


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# --- The broker -----------------------------------------------------------------


@dataclass
class Broker:
    url: str
    prefix: str

    def keys(self) -> list[bytes]:
        client = redis.Redis.from_url(self.url)
        try:
            return list(client.scan_iter(f"{self.prefix}*"))
        finally:
            client.close()

    def forget(self) -> None:
        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
            for key in client.scan_iter(f"{self.prefix}*"):
                client.delete(key)
            client.close()


def _xdist_index(request: pytest.FixtureRequest) -> int:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "gw0")
    return int(re.sub(r"\D", "", worker) or 0)


def _reset_publisher() -> None:
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def publishing_to(broker: Broker) -> Iterator[None]:
    """Point this process's Celery app (what services publish with) at `broker`."""
    saved = app.conf.broker_url, app.conf.broker_transport_options
    saved_environ = os.environ.get("CELERY_BROKER_URL")
    _reset_publisher()
    # Celery reads CELERY_BROKER_URL from the environment before its own settings.
    os.environ["CELERY_BROKER_URL"] = app.conf.broker_url = broker.url
    app.conf.broker_transport_options = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 1,
        "global_keyprefix": broker.prefix,
    }
    try:
        yield
    finally:
        _reset_publisher()
        app.conf.broker_url, app.conf.broker_transport_options = saved
        if saved_environ is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_environ


@pytest.fixture
def redis_broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """The shared Redis on 127.0.0.1:6379: a database per xdist worker, a prefix per test."""
    database = 1 + _xdist_index(request) % 8
    broker = Broker(
        url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{database}",
        prefix=f"redress-test-{uuid.uuid4().hex[:12]}:",
    )
    try:
        redis.Redis.from_url(broker.url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"delivery tests need Redis at {REDIS_HOST}:{REDIS_PORT}: {error}")
    with publishing_to(broker):
        yield broker
    broker.forget()


class OwnRedis:
    """A redis-server of this test's own, on a free port, that it may stop and start."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        self.process = subprocess.Popen(  # noqa: S603  (our own argument list)
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._ping, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        wait_for(lambda: not self._ping(), timeout=10, what="redis-server to stop")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        server.process.kill()
        server.process.wait()


# --- The worker ------------------------------------------------------------------


def worker_database_url() -> str:
    """This test run's database, as DATABASE_URL for another process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(settings["NAME"])
        assert "memory" not in name, "the SQLite test database must be a file"
        return f"sqlite:///{name}"
    credentials = quote(settings["USER"] or "")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"])
    host = f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{settings['NAME']}"


class Worker:
    """`celery worker` in a process group of its own, logging to a file."""

    def __init__(self, broker: Broker | OwnRedis, smtp_port: int, workdir: Path,
                 **settings: str) -> None:  # fmt: skip
        self.log_path = workdir / f"worker-{uuid.uuid4().hex[:8]}.log"
        url = broker.url
        prefix = broker.prefix if isinstance(broker, Broker) else ""
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": url,
            "CELERY_BROKER_KEY_PREFIX": prefix,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "SITE_URL": "https://claims.example.test",
            "REDRESS_VAR_DIR": str(workdir / "var"),
            "EMAIL_RETRY_SECONDS": "0.1",
            "EMAIL_MAX_ATTEMPTS": "3",
            "EMAIL_TIMEOUT": "10",
            **settings,
        }
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603  (our own argument list)
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "config",
                "worker",
                "--queues",
                QUEUES,
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: " ready." in self.output() or self.process.poll() is not None,
                 timeout=60, what="the worker to start")  # fmt: skip
        assert self.process.poll() is None, f"the worker died:\n{self.output()}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.output()))

    def wait_for_log(self, pattern: str, count: int = 1, timeout: float = 20) -> None:
        wait_for(lambda: self.count(pattern) >= count, timeout=timeout,
                 what=f"{count} x {pattern!r} in the worker log")  # fmt: skip

    def pool_processes(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill_pool_processes(self) -> list[int]:
        """SIGKILL the processes running tasks, as the OOM killer would; the main
        process lives on, sees them die and starts new ones."""
        killed = self.pool_processes()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        return killed

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(broker: Broker | OwnRedis, sink: SmtpSink, **settings: str) -> Worker:
        worker = Worker(broker, sink.port, tmp_path, **settings)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
