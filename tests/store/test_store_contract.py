"""One contract for every object store backend: a local folder and S3 (moto over HTTP).

Each test gets a fresh store (a fresh folder, or a fresh bucket). The `Backend`
harness adds what the contract cannot ask the store itself: every key that is
physically stored, and a client that follows presigned requests.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aioboto3
import httpx
import pytest
from sqlalchemy import select

import coordinator.store
from coordinator.store import (
    InvalidKey,
    LocalStore,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    PresignedRequest,
    S3Store,
    StoreError,
    StoreUnavailable,
    UrlSigner,
    open_store,
)
from coordinator.db.database import Database
from coordinator.db.models import SmallObject
from coordinator.store.database_tier import DatabaseTier
from tests.fixtures.s3 import S3Endpoint

PUBLIC_BASE_URL = "http://coordinator.test:8000"
OBJECTS_PATH = "/api/v1/objects/"


@dataclass
class Backend:
    name: str
    store: ObjectStore
    stored_keys: Callable[[], Awaitable[set[str]]]
    """Every key physically stored, temporary files included: proof that nothing was written."""
    send: Callable[[PresignedRequest, bytes | None], Awaitable[bytes]]
    """Do what a volunteer's client does with a presigned request; return the body."""
    signer: UrlSigner | None = None
    """The key the coordinator signs its own URLs with (the local folder's)."""


async def _local_backend(tmp_path: Path) -> Backend:
    signer = UrlSigner(os.urandom(32))
    root = tmp_path / "objects"
    store = LocalStore(root, PUBLIC_BASE_URL, signer)

    async def stored_keys() -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}

    async def send(request: PresignedRequest, body: bytes | None) -> bytes:
        # No coordinator route yet: do what it will do, check the signature then
        # call the store.
        url = httpx.URL(request.url)
        assert request.url.startswith(PUBLIC_BASE_URL + OBJECTS_PATH)
        key = url.path.removeprefix(OBJECTS_PATH)
        op = url.params["op"]
        assert op == request.method.lower()
        signer.verify(op, key, int(url.params["exp"]), url.params["sig"])
        if op == "put":
            assert body is not None
            await store.put(key, body)
            return b""
        return await store.get(key, max_size=1 << 30)

    return Backend("local", store, stored_keys, send, signer)


async def _s3_backend(endpoint: S3Endpoint) -> Backend:
    bucket = endpoint.new_bucket_name()
    store = S3Store(
        bucket=bucket,
        endpoint_url=endpoint.endpoint_url,
        region=endpoint.region,
        access_key=endpoint.access_key,
        secret_key=endpoint.secret_key,
        create_bucket=True,
    )

    async def stored_keys() -> set[str]:
        session = aioboto3.Session(
            aws_access_key_id=endpoint.access_key,
            aws_secret_access_key=endpoint.secret_key,
            region_name=endpoint.region,
        )
        async with session.client("s3", endpoint_url=endpoint.endpoint_url) as client:
            try:
                listing = await client.list_objects_v2(Bucket=bucket)
            except client.exceptions.NoSuchBucket:
                return set()
        return {item["Key"] for item in listing.get("Contents", [])}

    async def send(request: PresignedRequest, body: bytes | None) -> bytes:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.request(
                request.method, request.url, headers=request.headers, content=body
            )
        assert response.status_code == 200, response.text
        return response.content

    return Backend("s3", store, stored_keys, send)


TIER_LIMIT = 4096  # objects up to this size go to the database in the tier's harnesses


async def _tier_backend(inner: Backend, database_url: str) -> Backend:
    """The database tier in front of `inner`: small objects in `small_objects`, the rest in `inner`."""
    db = Database(database_url)
    signer = inner.signer or UrlSigner(os.urandom(32))  # one key per coordinator
    tier = DatabaseTier(inner.store, db, limit=TIER_LIMIT, public_base_url=PUBLIC_BASE_URL, signer=signer,
                        prefix="")  # every key may become a row, so the whole contract covers rows

    async def stored_keys() -> set[str]:
        async with db.transaction() as session:
            rows = set(await session.scalars(select(SmallObject.key)))
        return rows | await inner.stored_keys()

    async def send(request: PresignedRequest, body: bytes | None) -> bytes:
        if not request.url.startswith(PUBLIC_BASE_URL + OBJECTS_PATH) or request.method == "PUT":
            return await inner.send(request, body)
        # A download URL the coordinator signed for a row: what its objects route does.
        url = httpx.URL(request.url)
        key = url.path.removeprefix(OBJECTS_PATH)
        signer.verify("get", key, int(url.params["exp"]), url.params["sig"])
        return await tier.get(key, max_size=1 << 30)

    async def close() -> None:
        await tier.close()
        await db.dispose()

    harness = Backend(f"{inner.name} behind the database tier", tier, stored_keys, send)
    harness.close = close  # type: ignore[attr-defined]
    return harness


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3), "tier-local",
                        pytest.param("tier-s3", marks=pytest.mark.s3)])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tier_database_url(backend_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The tier's database (made outside the event loop: its fixtures migrate with asyncio.run)."""
    if backend_kind == "tier-local":
        return str(request.getfixturevalue("sqlite_url"))
    if backend_kind == "tier-s3":
        return str(request.getfixturevalue("pg_url"))
    return None


@pytest.fixture
async def backend(backend_kind: str, tier_database_url: str | None, request: pytest.FixtureRequest,
                  tmp_path: Path) -> AsyncIterator[Backend]:
    if backend_kind.endswith("local"):
        harness = await _local_backend(tmp_path)
    else:
        harness = await _s3_backend(request.getfixturevalue("s3_endpoint"))
    if tier_database_url is not None:
        harness = await _tier_backend(harness, tier_database_url)
    try:
        yield harness
    finally:
        await getattr(harness, "close", harness.store.close)()


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    return backend.store


# --- reading and writing -------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 1000, 1 << 20])
async def test_put_then_get_returns_the_same_bytes(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    await store.put("results/wu-1/r-2.bin", data)
    assert await store.get("results/wu-1/r-2.bin", max_size=size) == data


async def test_put_replaces_an_existing_object(store: ObjectStore) -> None:
    await store.put("a.txt", b"first version, longer")
    await store.put("a.txt", b"second")
    assert await store.get("a.txt", max_size=100) == b"second"
    assert await store.head("a.txt") == ObjectInfo(key="a.txt", size=6)


async def test_put_refuses_what_is_not_bytes(backend: Backend) -> None:
    with pytest.raises(TypeError):
        await backend.store.put("a", "text")  # type: ignore[arg-type]
    assert await backend.stored_keys() == set()


async def test_get_of_a_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound, match="'nothing/here'"):
        await store.get("nothing/here", max_size=10)


async def test_get_refuses_an_object_larger_than_max_size(store: ObjectStore) -> None:
    await store.put("big", b"x" * 1000)
    with pytest.raises(ObjectTooLarge) as info:
        await store.get("big", max_size=999)
    assert info.value.size == 1000
    assert info.value.max_size == 999
    assert await store.get("big", max_size=1000) == b"x" * 1000
    # The refused read left the store usable.
    assert await store.head("big") == ObjectInfo(key="big", size=1000)


async def test_get_refuses_a_negative_max_size(store: ObjectStore) -> None:
    with pytest.raises(ValueError):
        await store.get("a", max_size=-1)


async def test_head_reports_size_or_none(store: ObjectStore) -> None:
    assert await store.head("h/k") is None
    await store.put("h/k", b"12345")
    assert await store.head("h/k") == ObjectInfo(key="h/k", size=5)
    await store.put("h/empty", b"")
    assert await store.head("h/empty") == ObjectInfo(key="h/empty", size=0)


async def test_delete_removes_and_is_idempotent(backend: Backend) -> None:
    store = backend.store
    await store.delete("never/stored")
    await store.put("d/k", b"data")
    await store.delete("d/k")
    assert await store.head("d/k") is None
    with pytest.raises(ObjectNotFound):
        await store.get("d/k", max_size=10)
    await store.delete("d/k")
    assert await backend.stored_keys() == set()


async def test_a_key_under_an_object_is_not_found(store: ObjectStore) -> None:
    await store.put("a", b"1")
    assert await store.head("a/b") is None
    with pytest.raises(ObjectNotFound):
        await store.get("a/b", max_size=10)
    await store.delete("a/b")
    assert await store.get("a", max_size=10) == b"1"


async def test_a_prefix_of_other_keys_is_not_an_object(store: ObjectStore) -> None:
    await store.put("p/q", b"1")
    assert await store.head("p") is None
    with pytest.raises(ObjectNotFound):
        await store.get("p", max_size=10)
    await store.delete("p")
    assert await store.get("p/q", max_size=10) == b"1"


async def test_readers_never_see_a_partial_object(store: ObjectStore) -> None:
    versions = [bytes([i]) * (256 * 1024) for i in range(2)]
    await store.put("atomic", versions[0])

    async def writer() -> None:
        for i in range(6):
            await store.put("atomic", versions[i % 2])

    async def reader() -> list[bytes]:
        return [await store.get("atomic", max_size=1 << 20) for _ in range(6)]

    _, seen = await asyncio.gather(writer(), reader())
    assert all(data in versions for data in seen)


# --- keys --------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "../x",
    "a/../../x",
    "a/./b",
    ".",
    "..",
    "/x",
    "/etc/passwd",
    "a//b",
    "a/",
    "a\\b",
    "a b",
    "a\nb",
    "a\x00b",
    "-a",
    ".hidden",
    "C:x",
    "a" * 513,
    "a" * 256,
    "é",
    "\uff41",  # fullwidth a
    "a\u202eb",  # right-to-left override
    "😀",
    "a~b",
]


async def test_invalid_keys_are_refused_and_nothing_is_written(
    backend: Backend, tmp_path: Path
) -> None:
    store = backend.store
    calls: list[Callable[[str], Awaitable[object]]] = [
        lambda k: store.put(k, b"data"),
        lambda k: store.get(k, 10),
        store.head,
        store.delete,
        lambda k: store.upload_url(k, 60),
        lambda k: store.download_url(k, 60),
    ]
    for key in BAD_KEYS:
        for call in calls:
            with pytest.raises(InvalidKey):
                await call(key)
    assert await backend.stored_keys() == set()
    # Nothing escaped the local root either (the tier's SQLite database lives beside it).
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith("coordinator.sqlite3")} <= {"objects"}


async def test_invalid_key_is_also_a_value_error(store: ObjectStore) -> None:
    with pytest.raises(ValueError, match=r"'\.\./x'"):
        await store.put("../x", b"")


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "A-b_c.d",
        "a/.hidden/-x",
        "x" * 255,
        "a" * 254 + "/" + "b" * 255 + "/c",  # 512 characters, the longest key
    ],
)
async def test_valid_edge_keys_round_trip(backend: Backend, key: str) -> None:
    await backend.store.put(key, b"edge")
    assert await backend.store.get(key, 10) == b"edge"
    assert await backend.stored_keys() == {key}


# --- presigned requests ---------------------------------------------------------


async def test_upload_url_accepts_a_put_then_get_returns_it(backend: Backend) -> None:
    before = time.time()
    request = await backend.store.upload_url("uploads/r-7.json", expires_in=300)
    assert request.method == "PUT"
    assert before + 299 <= request.expires_at <= time.time() + 301
    await backend.send(request, b'{"ok": true}')
    assert await backend.store.get("uploads/r-7.json", max_size=100) == b'{"ok": true}'


async def test_download_url_serves_the_object(backend: Backend) -> None:
    data = os.urandom(70_000)
    await backend.store.put("apps/bpsw/1.0/linux.zip", data)
    request = await backend.store.download_url("apps/bpsw/1.0/linux.zip", expires_in=60)
    assert request.method == "GET"
    assert await backend.send(request, None) == data


@pytest.mark.parametrize("expires_in", [0, -5, 7 * 24 * 3600 + 1, 1.5, True])
async def test_url_lifetime_must_be_sensible(store: ObjectStore, expires_in: int) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        await store.upload_url("k", expires_in)
    with pytest.raises(ValueError, match="expires_in"):
        await store.download_url("k", expires_in)


# --- lifetime and description --------------------------------------------------------


async def test_description_names_the_place_and_no_secret(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    description = backend.store.description
    assert description in repr(backend.store)
    if backend.name.startswith("s3"):
        endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
        assert description.startswith("s3://test-")
        assert endpoint.endpoint_url in description
        assert endpoint.secret_key not in description
        assert endpoint.secret_key not in repr(backend.store)
    else:
        assert description.startswith("local folder /")


async def test_close_is_idempotent(store: ObjectStore) -> None:
    await store.put("k", b"v")
    await store.close()
    await store.close()


# --- backend-specific promises ----------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.s3
async def test_s3_down_raises_store_unavailable() -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    store = S3Store(
        bucket="unreachable",
        endpoint_url=endpoint,
        region="us-east-1",
        access_key="AKIAEXAMPLE",
        secret_key="do-not-show-this-secret",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )
    async with store:
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: store.put("k", b"v"),
            lambda: store.get("k", 10),
            lambda: store.head("k"),
            lambda: store.delete("k"),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable, match="unreachable") as info:
                await call()
            assert endpoint in str(info.value)
            assert "do-not-show-this-secret" not in str(info.value)


@pytest.mark.s3
async def test_s3_store_refuses_use_after_close(s3_endpoint: S3Endpoint) -> None:
    store = S3Store(
        s3_endpoint.bucket,
        s3_endpoint.endpoint_url,
        s3_endpoint.region,
        s3_endpoint.access_key,
        s3_endpoint.secret_key,
    )
    await store.put("closing", b"v")
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get("closing", 10)


@pytest.mark.s3
async def test_s3_missing_bucket_is_a_clear_error(s3_endpoint: S3Endpoint) -> None:
    async with S3Store(
        s3_endpoint.new_bucket_name(),
        s3_endpoint.endpoint_url,
        s3_endpoint.region,
        s3_endpoint.access_key,
        s3_endpoint.secret_key,
    ) as store:
        with pytest.raises(StoreError, match="does not exist"):
            await store.put("k", b"v")


async def test_local_store_cannot_hold_an_object_and_a_folder_of_one_name(
    tmp_path: Path,
) -> None:
    # S3 can; a file system cannot. The local store says so instead of failing oddly.
    store = LocalStore(tmp_path, PUBLIC_BASE_URL, UrlSigner(os.urandom(32)))
    await store.put("a", b"1")
    with pytest.raises(InvalidKey, match="share a name"):
        await store.put("a/b", b"2")
    await store.put("p/q", b"3")
    with pytest.raises(InvalidKey, match="share a name"):
        await store.put("p", b"4")
    assert await store.get("a", 10) == b"1"
    assert await store.get("p/q", 10) == b"3"


async def test_local_store_on_a_broken_disk_raises_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    store = LocalStore(blocker / "objects", PUBLIC_BASE_URL, UrlSigner(os.urandom(32)))
    with pytest.raises(StoreUnavailable, match="not-a-folder"):
        await store.put("k", b"v")


# --- building stores from settings ----------------------------------------------------


def _open(url: str, tmp_path: Path) -> ObjectStore:
    return open_store(
        url,
        data_dir=tmp_path,
        public_base_url=PUBLIC_BASE_URL,
        signer=UrlSigner(os.urandom(32)),
        s3_endpoint="http://127.0.0.1:9",
        s3_region="eu-west-1",
        s3_access_key="AKIAEXAMPLE",
        s3_secret_key="very-secret-value",
    )


async def test_open_store_builds_each_kind(tmp_path: Path) -> None:
    local = _open("local", tmp_path)
    assert isinstance(local, LocalStore)
    assert local.root == tmp_path / "objects"
    folder = _open(f"file://{tmp_path}/elsewhere", tmp_path)
    assert isinstance(folder, LocalStore)
    assert folder.root == tmp_path / "elsewhere"
    s3 = _open("s3://newral-objects", tmp_path)
    assert isinstance(s3, S3Store)
    assert s3.description == "s3://newral-objects at http://127.0.0.1:9"
    await s3.close()


@pytest.mark.parametrize(
    "url",
    [
        "",
        "memory",
        "file://relative/path",
        "file:relative",
        "s3://",
        "s3://Bad_Bucket",
        "s3://bucket/prefix",
        "https://example.com/bucket",
    ],
)
def test_open_store_refuses_unknown_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="object store URL"):
        _open(url, tmp_path)


def test_open_store_never_echoes_credentials_in_a_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        _open("s3://AKIA:hunter2@bucket", tmp_path)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ValueError) as info:
        _open("ftp://user:hunter2@host/x", tmp_path)
    assert "hunter2" not in str(info.value)


def test_public_surface_is_deliberate() -> None:
    assert sorted(coordinator.store.__all__) == [
        "InvalidKey",
        "LocalStore",
        "ObjectInfo",
        "ObjectNotFound",
        "ObjectStore",
        "ObjectTooLarge",
        "PresignedRequest",
        "S3Store",
        "SignatureError",
        "SignatureExpired",
        "SignatureInvalid",
        "StoreError",
        "StoreUnavailable",
        "UrlSigner",
        "load_or_create_secret",
        "open_store",
        "validate_key",
    ]
    for name in coordinator.store.__all__:
        assert getattr(coordinator.store, name).__module__.startswith("coordinator.store.")


# --- the database tier -------------------------------------------------------------


async def test_the_tier_keeps_small_objects_as_rows_and_big_ones_in_the_backend(
    tmp_path: Path, sqlite_url: str
) -> None:
    backend = await _tier_backend(await _local_backend(tmp_path), sqlite_url)
    tier = backend.store
    assert isinstance(tier, DatabaseTier)
    try:
        await tier.put("small", b"x" * TIER_LIMIT)
        await tier.put("big", b"y" * (TIER_LIMIT + 1))
        assert await tier.backend.head("small") is None  # a row, not a file
        assert await tier.backend.head("big") == ObjectInfo("big", TIER_LIMIT + 1)
        for key, data in (("small", b"x" * TIER_LIMIT), ("big", b"y" * (TIER_LIMIT + 1))):
            assert await backend.send(await tier.download_url(key, 60), None) == data
        # Rewritten big, the row goes: the file is what readers get.
        await tier.put("small", b"z" * (TIER_LIMIT + 5))
        assert await backend.stored_keys() == {"small", "big"}
        assert await tier.backend.head("small") == ObjectInfo("small", TIER_LIMIT + 5)
        assert await tier.get("small", 1 << 20) == b"z" * (TIER_LIMIT + 5)
        # And rewritten small again, the row shadows the file.
        await tier.put("small", b"w")
        assert await tier.get("small", 10) == b"w" and await tier.head("small") == ObjectInfo("small", 1)
        # With a prefix, only keys under it become rows.
        tier.prefix = "results/"
        await tier.put("releases/x.json", b"{}")
        await tier.put("results/r.out", b"out")
        assert await tier.backend.head("releases/x.json") == ObjectInfo("releases/x.json", 2)
        assert await tier.backend.head("results/r.out") is None
        assert await tier.get("results/r.out", 10) == b"out" and await tier.get("releases/x.json", 10) == b"{}"
    finally:
        await backend.close()  # type: ignore[attr-defined]
