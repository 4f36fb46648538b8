"""The object store's interface, its value types and its exceptions.

Every backend (a local folder, S3) subclasses `ObjectStore`; the public methods
here check keys and limits once, so no backend can forget to, and then call the
backend's `_put`, `_get`... methods.

Exceptions:

    StoreError
    ├── InvalidKey            (also a ValueError) a key outside the key grammar
    ├── ObjectNotFound        no object under that key
    ├── ObjectTooLarge        the object is bigger than the caller's limit
    ├── StoreUnavailable      the backend is down or unreachable; retrying may help
    └── SignatureError        (signing.py) a coordinator-signed URL is refused
        ├── SignatureInvalid
        └── SignatureExpired
"""

from __future__ import annotations

import abc
import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

MAX_KEY_LENGTH = 512
# Most file systems refuse names longer than 255 bytes; holding S3 to the same
# limit keeps the backends interchangeable.
MAX_SEGMENT_LENGTH = 255
# SigV4 presigned URLs live at most 7 days; the local backend follows suit.
MAX_URL_LIFETIME = 7 * 24 * 3600

_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,511}")


class StoreError(Exception):
    """Base of every exception the object store raises."""


class InvalidKey(StoreError, ValueError):
    """A key breaks the key grammar (see `validate_key`) or cannot be stored."""


class ObjectNotFound(StoreError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object under key {key!r}")
        self.key = key


class ObjectTooLarge(StoreError):
    """The object is bigger than the reader agreed to take."""

    def __init__(self, key: str, size: int | None, max_size: int) -> None:
        what = f"{size} bytes" if size is not None else "larger than that"
        super().__init__(f"object {key!r} is {what}; the limit is {max_size} bytes")
        self.key = key
        self.size = size
        self.max_size = max_size


class StoreUnavailable(StoreError):
    """The backend did not answer (down, unreachable, disk failing); retry later."""


@dataclass(frozen=True)
class ObjectInfo:
    """What `head` tells about a stored object."""

    key: str
    size: int


@dataclass(frozen=True)
class PresignedRequest:
    """An HTTP request a client may make, without credentials, until `expires_at`."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: float


def validate_key(key: str) -> str:
    """Return `key` if it is a valid object key, else raise `InvalidKey`.

    A key is 1 to 512 characters of ASCII letters, digits, '.', '_', '-' and '/',
    starts with a letter or digit, and splits on '/' into non-empty segments of
    at most 255 characters, none of them '.' or '..'.
    """
    if not isinstance(key, str):
        raise InvalidKey(f"an object key must be a string, not {type(key).__name__}")
    if not key:
        raise InvalidKey("an object key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"object key is {len(key)} characters; the limit is {MAX_KEY_LENGTH}")
    if not _KEY_RE.fullmatch(key):
        raise InvalidKey(
            f"invalid object key {key!r}: use ASCII letters, digits, '.', '_', '-' and '/',"
            " starting with a letter or digit"
        )
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(
                f"invalid object key {key!r}: no empty, '.' or '..' segments"
                " (no '//', no trailing '/')"
            )
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise InvalidKey(
                f"invalid object key {key!r}: a segment is longer than"
                f" {MAX_SEGMENT_LENGTH} characters"
            )
    return key


def _check_max_size(max_size: int) -> None:
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0:
        raise ValueError(f"max_size must be a non-negative integer, not {max_size!r}")


def _check_expires_in(expires_in: int) -> None:
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not 1 <= expires_in <= MAX_URL_LIFETIME
    ):
        raise ValueError(
            f"expires_in must be between 1 and {MAX_URL_LIFETIME} seconds, not {expires_in!r}"
        )


class ObjectStore(abc.ABC):
    """Bytes under string keys, and time-limited URLs that let clients move them.

    Promises of every backend: `put` is atomic (a reader sees the old object or
    the new one, never part of one); `get` refuses an object bigger than
    `max_size` before reading all of it; `delete` of a missing key succeeds;
    errors are `StoreError`s, never a backend's own exceptions.
    """

    description: str
    """Where the objects live, for logs and the UI ("local folder /x"); holds no secret."""

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing any object there, atomically."""
        validate_key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        await self._put(key, bytes(data))

    async def put_many(self, items: Sequence[tuple[str, bytes]]) -> list[StoreError | None]:
        """Store several objects, each as `put` would; one outcome per item, in order
        (None when stored). A failure of one item never undoes the others."""
        checked: list[StoreError | None] = []
        for key, data in items:
            try:
                validate_key(key)
                checked.append(None)
            except InvalidKey as exc:
                checked.append(exc)
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"data must be bytes, not {type(data).__name__}")
        todo = [(i, key, bytes(data)) for i, ((key, data), err) in enumerate(zip(items, checked)) if err is None]
        for (i, _, _), err in zip(todo, await self._put_many([(k, d) for _, k, d in todo]), strict=True):
            checked[i] = err
        return checked

    async def get(self, key: str, max_size: int) -> bytes:
        """Return the object under `key`; `ObjectNotFound`, or `ObjectTooLarge` past `max_size`."""
        validate_key(key)
        _check_max_size(max_size)
        return await self._get(key, max_size)

    async def head(self, key: str) -> ObjectInfo | None:
        """Return the object's size, or None if there is no object under `key`."""
        validate_key(key)
        return await self._head(key)

    async def delete(self, key: str) -> None:
        """Remove the object under `key`; a missing object is not an error."""
        validate_key(key)
        await self._delete(key)

    async def upload_url(self, key: str, expires_in: int) -> PresignedRequest:
        """A PUT request that stores its body under `key`, valid for `expires_in` seconds."""
        validate_key(key)
        _check_expires_in(expires_in)
        return await self._presign("PUT", key, expires_in)

    async def download_url(self, key: str, expires_in: int) -> PresignedRequest:
        """A GET request that returns the object under `key`, valid for `expires_in` seconds."""
        validate_key(key)
        _check_expires_in(expires_in)
        return await self._presign("GET", key, expires_in)

    async def close(self) -> None:
        """Release connections; the store is not used afterwards. Safe to call twice."""
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"

    # What a backend implements; keys and limits are already checked.

    @abc.abstractmethod
    async def _put(self, key: str, data: bytes) -> None: ...

    async def _put_many(self, items: list[tuple[str, bytes]]) -> list[StoreError | None]:
        """Concurrent puts; a backend overrides this when it can do better."""
        async def one(key: str, data: bytes) -> StoreError | None:
            try:
                await self._put(key, data)
            except StoreError as exc:
                return exc
            return None

        return list(await asyncio.gather(*(one(k, d) for k, d in items)))

    @abc.abstractmethod
    async def _get(self, key: str, max_size: int) -> bytes: ...

    @abc.abstractmethod
    async def _head(self, key: str) -> ObjectInfo | None: ...

    @abc.abstractmethod
    async def _delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def _presign(self, method: str, key: str, expires_in: int) -> PresignedRequest: ...
