"""The cache, used so that its loss costs time and nothing else: every read and write
here passes by a cache that cannot be reached (Redis down) and asks the database.

`remembered` keeps a figure for a few seconds (the fund, the pro-rata projection, the
list's estimate). `cached` keeps what every staff page reads and almost never changes
(a user's permissions, the caseworkers who may be assigned claims, the schemes and
their distress bands) until it changes. Without it each list page asks the database
for all of them.

Each value is stored beside the version of what it was read from. Any change to roles
(users, groups, permissions and the links between them) or to schemes gives that a
new version when its transaction commits (the transaction itself reads the database
meanwhile), so the next request reads afresh: a permission taken away stops working
on the very next page. A cache that cannot be reached is passed by; the database
answers, as it would without this.

Both also keep what they read in the process: `remembered` until it is as old as it
may be, `cached` beside its version, so that a page asks Redis once for the versions
(claims.queries.caching._version) and for nothing else while they stand.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from claims.models import DistressBand, Scheme

log = logging.getLogger(__name__)
T = TypeVar("T")

ROLES = "redress:roles-version"
SCHEMES = "redress:schemes-version"
ENTRY_SECONDS = 3600


# What `remembered` read, kept in this process too until it is `seconds` old, so a
# figure costs a round trip to Redis once per process rather than once a page. Keyed by
# the cache's own key (with its prefix), and bounded: search terms make new keys.
_remembered_here: dict[str, tuple[float, Any]] = {}
_REMEMBERED_HERE_MAX = 512


def remembered(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """`compute()`, or what it gave in the last `seconds` seconds."""
    # Stored as (when, value) under a key of this form's own, so that processes of an
    # earlier release, during a rolling deploy, do not read one as the other.
    key = f"{key}:at"
    here = cache.make_key(key)
    now = time.time()
    kept = _remembered_here.get(here)
    if kept is not None and now - kept[0] < seconds:
        return kept[1]  # type: ignore[no-any-return]
    try:
        found = cache.get(key)
        if isinstance(found, tuple) and len(found) == 2 and now - found[0] < seconds:
            _keep_here(here, found)
            return found[1]  # type: ignore[no-any-return]
    except Exception:
        log.warning("The cache could not be read; asking the database.", exc_info=True)
        return compute()
    value = compute()
    entry = (now, value)
    _keep_here(here, entry)
    try:
        cache.set(key, entry, seconds)
    except Exception:
        log.warning("The cache could not be written.", exc_info=True)
    return value


def _keep_here(key: str, entry: tuple[float, Any]) -> None:
    if len(_remembered_here) >= _REMEMBERED_HERE_MAX:
        _remembered_here.clear()
    _remembered_here[key] = entry


# What `cached` read, kept in this process too, beside the version it was read at and
# for no longer than Redis keeps it (ENTRY_SECONDS, so a renewal Redis missed cannot
# keep a value for ever): a page whose versions are unchanged then asks Redis for the
# versions alone, not for every value (and unpickles none of them). The values are
# shared by every request in the process, so what is kept is never changed after it
# is read.
_kept: dict[str, tuple[str, Any, float]] = {}


def _clock() -> float:
    return time.monotonic()


# During a request, the versions as its first `cached` call read them, both in one
# round trip; outside a request (tasks, commands), each call reads its version.
_request = threading.local()


def _on_request_started(**kwargs: Any) -> None:
    _request.versions = {}


def _on_request_finished(**kwargs: Any) -> None:
    _request.versions = None


def _version(depends_on: str) -> str | None:
    versions: dict[str, str] | None = getattr(_request, "versions", None)
    if versions is not None and depends_on in versions:
        return versions[depends_on]
    found = cache.get_many([ROLES, SCHEMES] if versions is not None else [depends_on])
    version = found.get(depends_on)
    if version is None:
        cache.add(depends_on, uuid.uuid4().hex, None)
        version = cache.get(depends_on)
    if versions is not None:
        versions.update(found)
        if version is not None:
            versions[depends_on] = version
    return version  # type: ignore[no-any-return]


def cached(name: str, depends_on: str, compute: Callable[[], T]) -> T:
    """`compute()`, or what it gave last time if `depends_on` has not changed since."""
    if _renewing(depends_on):
        return compute()  # changed in this transaction: only the database knows how
    try:
        version = _version(depends_on)
        kept = _kept.get(name)
        fresh = _clock() - ENTRY_SECONDS
        if kept is not None and version is not None and kept[0] == version and kept[2] > fresh:
            return kept[1]  # type: ignore[no-any-return]
        entry = cache.get(name)
        if entry is not None and version is not None and entry[0] == version:
            _kept[name] = (version, entry[1], _clock())
            return entry[1]  # type: ignore[no-any-return]
    except Exception:
        log.warning("The cache could not be read; asking the database.", exc_info=True)
        return compute()
    value = compute()
    if version is not None:
        try:
            cache.set(name, (version, value), ENTRY_SECONDS)
            _kept[name] = (version, value, _clock())
        except Exception:
            log.warning("The cache could not be written.", exc_info=True)
    return value


class _Renew:
    """Gives `depends_on` a new version: run when the transaction that changed it
    commits, so no other process can store what it read before the change under the
    new version. Until then this transaction reads from the database (`cached`)."""

    def __init__(self, depends_on: str) -> None:
        self.depends_on = depends_on
        self.done = False

    def __call__(self) -> None:
        self.done = True
        version = uuid.uuid4().hex
        versions: dict[str, str] | None = getattr(_request, "versions", None)
        if versions is not None:  # the rest of this request reads what it changed afresh
            versions[self.depends_on] = version
        try:
            cache.set(self.depends_on, version, None)
        except Exception:
            log.warning("The cache could not be written; %s not renewed.", self.depends_on,
                        exc_info=True)  # fmt: skip


def _renewing(depends_on: str) -> bool:
    """Whether this transaction changed `depends_on` (its renewal waits for the commit;
    a rollback, whole or to a savepoint, drops it with the change)."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(
        isinstance(func, _Renew) and func.depends_on == depends_on and not func.done
        for _, func, _ in connection.run_on_commit
    )


def changed(depends_on: str) -> None:
    """Everything read from `depends_on` is read afresh once this change commits (at
    once outside a transaction). Once a transaction: loading hundreds of roles renews
    the version once, not hundreds of times."""
    if not _renewing(depends_on):
        transaction.on_commit(_Renew(depends_on))


def _roles_changed(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # Each sign-in saves last_login; that changes nobody's role.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    changed(ROLES)


def _schemes_changed(sender: Any, **kwargs: Any) -> None:
    changed(SCHEMES)


def connect() -> None:
    """Called from ClaimsConfig.ready."""
    request_started.connect(_on_request_started, dispatch_uid="redress-cache-versions-start")
    request_finished.connect(_on_request_finished, dispatch_uid="redress-cache-versions-end")
    user_model = get_user_model()
    for model in (user_model, Group, Permission):
        post_save.connect(_roles_changed, sender=model, dispatch_uid=f"roles-save-{model}")
        post_delete.connect(_roles_changed, sender=model, dispatch_uid=f"roles-del-{model}")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(_roles_changed, sender=through, dispatch_uid=f"roles-m2m-{through}")
    for scheme_model in (Scheme, DistressBand):
        uid = f"schemes-{scheme_model.__name__}"
        post_save.connect(_schemes_changed, sender=scheme_model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_schemes_changed, sender=scheme_model, dispatch_uid=f"{uid}-delete")


def scheme_choices() -> list[tuple[str, str]]:
    def read() -> list[tuple[str, str]]:
        schemes = Scheme.objects.order_by("name").values_list("pk", "name")
        return [(str(pk), name) for pk, name in schemes]

    return cached("redress:scheme-choices", SCHEMES, read)
