"""The object store on S3 or anything that speaks it (MinIO, moto, cloud S3).

One aiobotocore client is created on first use and kept until `close()`.
Uploads and downloads by clients go straight to S3 through presigned URLs.
botocore's and aiohttp's exceptions become the store's in `_translate_errors`,
and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import aioboto3
import aiohttp
import botocore.exceptions
from botocore.config import Config

from coordinator.store import base

_CHUNK = 64 * 1024
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_ACCESS_CODES = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}
)
_UNREACHABLE = (
    botocore.exceptions.ConnectionError,  # refused, DNS, connect timeout, TLS
    botocore.exceptions.HTTPClientError,  # read timeout, connection dropped mid-way
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
)


class S3Store(base.ObjectStore):
    """Objects in one S3 bucket."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        create_bucket: bool = False,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        """Describe the bucket; nothing connects until first use.

        `access_key`/`secret_key` None means botocore's usual credential chain;
        `max_attempts` counts every attempt, the first included.
        """
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.description = (
            f"s3://{bucket} at {endpoint_url}" if endpoint_url else f"s3://{bucket} in {region}"
        )
        self._create_bucket = create_bucket
        self._session = aioboto3.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        self._config = Config(
            signature_version="s3v4",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            # Custom endpoints (MinIO, moto) rarely have wildcard DNS for bucket hosts.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # Only checksum when S3 insists: S3-compatible servers vary, and a
            # presigned PUT must not demand a checksum header from the client.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: Any = None
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._closed = False
        self._lock = asyncio.Lock()

    async def _get_client(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._closed:
                raise base.StoreError(f"the store for {self.description} is closed")
            if self._client is None:
                stack = contextlib.AsyncExitStack()
                client = await stack.enter_async_context(
                    self._session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
                )
                try:
                    if self._create_bucket:
                        with self._translate_errors(None):
                            await self._ensure_bucket(client)
                except BaseException:
                    await stack.aclose()
                    raise
                self._exit_stack, self._client = stack, client
        return self._client

    async def _ensure_bucket(self, client: Any) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except botocore.exceptions.ClientError as e:
            if _error_code(e) not in _NOT_FOUND_CODES | {"NoSuchBucket"}:
                raise
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await client.create_bucket(**params)
        except botocore.exceptions.ClientError as e:
            if _error_code(e) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            stack, self._exit_stack, self._client = self._exit_stack, None, None
        if stack is not None:
            await stack.aclose()

    async def _put(self, key: str, data: bytes) -> None:
        client = await self._get_client()
        with self._translate_errors(key):
            await client.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def _get(self, key: str, max_size: int) -> bytes:
        client = await self._get_client()
        with self._translate_errors(key):
            # GetObject's headers carry the size: one round trip, and no race
            # between a HEAD and a GET against an object being replaced.
            response = await client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"]
            try:
                size = response.get("ContentLength")
                if size is not None and size > max_size:
                    raise base.ObjectTooLarge(key, size, max_size)
                chunks: list[bytes] = []
                total = 0
                while chunk := await body.read(_CHUNK):
                    total += len(chunk)
                    if total > max_size:  # the server's length was wrong; bound anyway
                        raise base.ObjectTooLarge(key, None, max_size)
                    chunks.append(chunk)
            finally:
                body.close()  # drops the connection if the body was not read to the end
            return b"".join(chunks)

    async def _head(self, key: str) -> base.ObjectInfo | None:
        client = await self._get_client()
        try:
            with self._translate_errors(key):
                response = await client.head_object(Bucket=self.bucket, Key=key)
        except base.ObjectNotFound:
            return None
        return base.ObjectInfo(key=key, size=int(response["ContentLength"]))

    async def _delete(self, key: str) -> None:
        client = await self._get_client()
        with self._translate_errors(key):
            await client.delete_object(Bucket=self.bucket, Key=key)

    async def _presign(self, method: str, key: str, expires_in: int) -> base.PresignedRequest:
        client = await self._get_client()
        operation = "put_object" if method == "PUT" else "get_object"
        expires_at = time.time() + expires_in
        with self._translate_errors(key):
            url = await client.generate_presigned_url(
                operation,
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=expires_in,
                HttpMethod=method,
            )
        return base.PresignedRequest(method=method, url=url, headers={}, expires_at=expires_at)

    @contextlib.contextmanager
    def _translate_errors(self, key: str | None) -> Iterator[None]:
        """Turn botocore's and aiohttp's exceptions into the store's, in this one place."""
        where = self.description + (f" (key {key!r})" if key is not None else "")
        try:
            yield
        except base.StoreError:
            raise
        except botocore.exceptions.ClientError as e:
            code = _error_code(e)
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in _NOT_FOUND_CODES and key is not None:
                raise base.ObjectNotFound(key) from e
            if code == "NoSuchBucket":
                raise base.StoreError(
                    f"bucket {self.bucket!r} does not exist at {self.endpoint_url or self.region}"
                ) from e
            if code in _ACCESS_CODES:
                raise base.StoreError(
                    f"{where} refused access ({code}); check the S3 credentials"
                ) from e
            if isinstance(status, int) and status >= 500:
                raise base.StoreUnavailable(f"{where} answered {status} ({code})") from e
            raise base.StoreError(f"{where} failed: {code}: {_error_message(e)}") from e
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
        ) as e:
            raise base.StoreError(f"no usable S3 credentials for {where}") from e
        except _UNREACHABLE as e:
            raise base.StoreUnavailable(f"{where} is unreachable: {e}") from e
        except botocore.exceptions.BotoCoreError as e:
            raise base.StoreError(f"{where} failed: {e}") from e


def _error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _error_message(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
