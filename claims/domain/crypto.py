"""Authenticated encryption for bank details, under keys kept apart from SECRET_KEY.

`BANK_DETAILS_KEYS` lists Fernet keys, newest first: values are encrypted with
the first and can be read with any, so a key can be rotated in without a
moment when stored values cannot be read.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "BANK_DETAILS_KEYS is not set: see .env.example for how to generate a key."
        )
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.BANK_DETAILS_KEYS))


def encrypt(value: str) -> bytes:
    return fernet().encrypt(value.encode())


def decrypt(token: bytes | memoryview) -> str:
    try:
        return fernet().decrypt(bytes(token)).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored bank detail cannot be decrypted with BANK_DETAILS_KEYS: a key was removed "
            "before every value was rotated to a newer one."
        ) from None


def rotate(token: bytes | memoryview) -> bytes:
    """The same value encrypted under the newest key (the first of BANK_DETAILS_KEYS)."""
    try:
        return fernet().rotate(bytes(token))
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored bank detail cannot be decrypted with BANK_DETAILS_KEYS: keep the old key "
            "in the list (after the new one) until the rotation has finished."
        ) from None


@register()
def check_bank_details_keys(app_configs: object, **kwargs: object) -> list[Error]:
    keys = settings.BANK_DETAILS_KEYS
    if not keys:
        return [
            Error(
                "BANK_DETAILS_KEYS is not set.",
                hint="Set it to one or more Fernet keys, newest first (see .env.example).",
                id="claims.E001",
            )
        ]
    try:
        _fernet(tuple(keys))
    except ValueError:
        return [
            Error("BANK_DETAILS_KEYS holds a value that is not a Fernet key.", id="claims.E002")
        ]
    return []
