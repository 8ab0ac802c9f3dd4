"""Files on S3-compatible storage (config/storage.py, S3_BUCKET) against a real S3 server
on loopback: moto's server, started by the test on a free port, no internet."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client
from moto.server import ThreadedMotoServer

from claims.models import Evidence
from config.storage import s3_storage
from tests.support.factories import draft_claim

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "redress-files"
REGION = "eu-west-2"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_DEFAULT_REGION": REGION,
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class S3Server:
    endpoint: str
    server: ThreadedMotoServer

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION)

    def storages(self, bucket: str = BUCKET) -> dict[str, Any]:
        return s3_storage(bucket=bucket, endpoint_url=self.endpoint, region=REGION)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    running = S3Server(endpoint=f"http://127.0.0.1:{port}", server=server)
    # The server keeps its buckets in this process, shared by every server started here.
    requests.post(f"{running.endpoint}/moto-api/reset", timeout=10).raise_for_status()
    running.client().create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    yield running
    server.stop()


ROUND_TRIP = """
import json
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
name = default_storage.save("letters/7/letter.pdf", ContentFile(PDF))
with default_storage.open(name, "rb") as handle:
    data = handle.read()
print(json.dumps({
    "backend": type(default_storage._wrapped).__module__,
    "name": name, "same": data == PDF, "exists": default_storage.exists(name),
    "url": default_storage.url(name),
}))
"""


def test_s3_bucket_setting_stores_files_privately_in_the_bucket(s3: S3Server) -> None:
    """Settings from the environment alone, in a process of their own, as in production."""
    env = {
        **os.environ,
        **CREDENTIALS,
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3.endpoint,
        "S3_REGION": REGION,
        "S3_PREFIX": "media",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = f"import django\ndjango.setup()\nPDF = {PDF!r}\n{ROUND_TRIP}"
    result = subprocess.run(  # noqa: S603  (our own arguments)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["backend"] == "storages.backends.s3"
    assert shown["name"] == "letters/7/letter.pdf" and shown["same"] and shown["exists"]
    # Only a signed URL that soon expires, never a public one.
    assert "X-Amz-Signature=" in shown["url"] and "X-Amz-Expires=60" in shown["url"]

    client = s3.client()
    stored = client.get_object(Bucket=BUCKET, Key="media/letters/7/letter.pdf")
    assert stored["Body"].read() == PDF
    grants = client.get_object_acl(Bucket=BUCKET, Key="media/letters/7/letter.pdf")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner alone
    assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers group
    unsigned = boto3.session.Session().client(
        "s3", endpoint_url=s3.endpoint, region_name=REGION,
        config=boto3.session.Config(signature_version=__import__("botocore").UNSIGNED),
    )  # fmt: skip
    with pytest.raises(client.exceptions.ClientError):
        unsigned.get_object(Bucket=BUCKET, Key="media/letters/7/letter.pdf")


@pytest.mark.django_db
def test_evidence_saved_on_s3_is_read_back_and_never_written_over(
    s3: S3Server, settings: Any
) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": s3.storages()}
    claim = draft_claim()
    first = Evidence(claim=claim, original_name="statement.pdf", content_type="application/pdf",
                     size=len(PDF), sha256="0" * 64)  # fmt: skip
    first.file.save("statement.pdf", ContentFile(PDF))
    second = Evidence(claim=claim, original_name="statement.pdf", content_type="application/pdf",
                      size=3, sha256="1" * 64)  # fmt: skip
    second.file.save("statement.pdf", ContentFile(b"new"))

    keys = sorted(o["Key"] for o in s3.client().list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == sorted([first.file.name, second.file.name])
    assert all(key.startswith(f"evidence/{claim.pk}/") for key in keys)
    with Evidence.objects.get(pk=first.pk).file.open("rb") as handle:
        assert handle.read() == PDF


@pytest.mark.django_db
def test_healthz_checks_the_bucket_and_fails_when_s3_is_gone(
    s3: S3Server, settings: Any, client: Client
) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": s3.storages()}
    assert json.loads(client.get("/healthz").content)["checks"]["storage"] == "ok"
    s3.server.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["storage"] == "fail"
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_fails_for_a_bucket_that_does_not_exist(
    s3: S3Server, settings: Any, client: Client
) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": s3.storages(bucket="no-such-bucket")}
    response = client.get("/healthz")
    assert json.loads(response.content)["checks"]["storage"] == "fail"
