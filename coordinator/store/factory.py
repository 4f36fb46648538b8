"""Build the object store a coordinator's settings name."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from pathlib import Path

from coordinator.store import base, local, s3, signing

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_FORMS = "'local', 'file:///absolute/path' or 's3://bucket'"


def open_store(
    url: str,
    *,
    data_dir: Path,
    public_base_url: str,
    signer: signing.UrlSigner,
    s3_endpoint: str | None,
    s3_region: str,
    s3_access_key: str | None,
    s3_secret_key: str | None,
) -> base.ObjectStore:
    """Return the store for `url`: "local" (under `data_dir`), "file:///abs/path" or "s3://bucket".

    Raises ValueError, naming the accepted forms, for anything else. Opens no
    connection; an S3 store connects on first use.
    """
    if url == "local":
        return local.LocalStore(Path(data_dir) / "objects", public_base_url, signer)
    parts = urllib.parse.urlsplit(url)
    shown = _redacted(url, parts)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise ValueError(f"object store URL {shown!r}: use file:///absolute/path")
        path = Path(urllib.request.url2pathname(parts.path))
        if not parts.path or not path.is_absolute():
            raise ValueError(f"object store URL {shown!r}: the path must be absolute")
        return local.LocalStore(path, public_base_url, signer)
    if parts.scheme == "s3":
        if "@" in parts.netloc:
            raise ValueError(
                "object store URL: put S3 credentials in the access key and secret"
                " settings, not in the URL"
            )
        bucket = parts.netloc
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"object store URL {shown!r}: use s3://bucket, with no path")
        if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
            raise ValueError(
                f"object store URL {shown!r}: {bucket!r} is not a valid S3 bucket name"
                " (3-63 lowercase letters, digits, '.' and '-')"
            )
        return s3.S3Store(
            bucket=bucket,
            endpoint_url=s3_endpoint,
            region=s3_region,
            access_key=s3_access_key,
            secret_key=s3_secret_key,
        )
    raise ValueError(f"unsupported object store URL {shown!r}: use {_FORMS}")


def _redacted(url: str, parts: urllib.parse.SplitResult) -> str:
    """`url` without any user:password part, fit for an error message."""
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
