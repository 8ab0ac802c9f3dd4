"""File storage on S3-compatible object storage (django-storages), when S3_BUCKET is set.

Objects are private (no ACL granted beyond the bucket's owner): Redress never links to a
file, it streams each one through a view that checks who may see it. A URL, if one is
ever asked for, is signed and lasts a minute. Credentials are found the way boto3 finds
them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the machine's role), never here.
"""

from __future__ import annotations

from typing import Any


def s3_storage(
    *, bucket: str, endpoint_url: str | None, region: str | None, prefix: str = "",
    addressing_style: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The STORAGES entry for a bucket."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": prefix,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # A self-hosted endpoint (MinIO, Ceph, ...) rarely has a DNS name per bucket.
            "addressing_style": addressing_style or ("path" if endpoint_url else "auto"),
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            # Generated names never repeat; a claimant's file is never written over regardless.
            "file_overwrite": False,
        },
    }
