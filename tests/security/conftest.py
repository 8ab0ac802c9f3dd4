from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.security.ledger import Attacker

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def attacker(request: pytest.FixtureRequest) -> Attacker:
    return Attacker(request.node)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def form_token(client: Client, path: str) -> str:
    """The CSRF token a page's form carries for this client's session."""
    match = CSRF_INPUT.search(client.get(path, follow=True).content.decode())
    assert match, path
    return match[1]


def strip_tokens(content: bytes) -> bytes:
    """A page without its per-render CSRF token (masked afresh each time)."""
    return CSRF_INPUT.sub('name="csrfmiddlewaretoken" value=""', content.decode()).encode()
