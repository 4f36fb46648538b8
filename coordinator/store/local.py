"""The object store as a folder on the coordinator's disk (embedded mode).

Key "a/b/c" is the file `<root>/a/b/c`. Writes go to a temporary file in the
same folder, are fsynced and renamed into place, so a reader sees a whole
object or none. Temporary names contain '~', which no key may, so they never
shadow an object. Upload and download URLs point at the coordinator itself,
signed by a `UrlSigner`; its objects route checks them and calls `put`/`get`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from coordinator.store import base, signing

_TEMP_PREFIX = ".~tmp-"


class LocalStore(base.ObjectStore):
    """Objects as files under `root`; URLs served by the coordinator at `public_base_url`."""

    def __init__(self, root: Path, public_base_url: str, signer: signing.UrlSigner) -> None:
        self.root = Path(root).absolute()
        self.public_base_url = public_base_url.rstrip("/")
        self._signer = signer
        self.description = f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        # `key` is already validated: no '..', no leading '/', so it stays under root.
        return self.root.joinpath(*key.split("/"))

    async def _put(self, key: str, data: bytes) -> None:
        with self._translate_errors(key):
            await asyncio.to_thread(self._write, key, data)

    async def _put_many(self, items: list[tuple[str, bytes]]) -> list[base.StoreError | None]:
        # One thread hop for the batch, and each folder's rename made durable once.
        return await asyncio.to_thread(self._write_many, items)

    async def _get(self, key: str, max_size: int) -> bytes:
        with self._translate_errors(key):
            return await asyncio.to_thread(self._read, key, max_size)

    async def _head(self, key: str) -> base.ObjectInfo | None:
        with self._translate_errors(key):
            size = await asyncio.to_thread(self._size, key)
        return None if size is None else base.ObjectInfo(key=key, size=size)

    async def _delete(self, key: str) -> None:
        with self._translate_errors(key):
            await asyncio.to_thread(self._remove, key)

    async def _presign(self, method: str, key: str, expires_in: int) -> base.PresignedRequest:
        return self._signer.object_request(method, self.public_base_url, key, expires_in)

    # Blocking parts, run in a worker thread.

    def _write(self, key: str, data: bytes) -> None:
        _fsync_dir(self._write_file(key, data))

    def _write_many(self, items: list[tuple[str, bytes]]) -> list[base.StoreError | None]:
        errors: list[base.StoreError | None] = []
        folders: dict[Path, list[int]] = {}
        for i, (key, data) in enumerate(items):
            try:
                with self._translate_errors(key):
                    folders.setdefault(self._write_file(key, data), []).append(i)
                errors.append(None)
            except base.StoreError as exc:
                errors.append(exc)
        for folder, which in folders.items():
            try:
                with self._translate_errors(items[which[0]][0]):
                    _fsync_dir(folder)
            except base.StoreError as exc:
                for i in which:
                    errors[i] = exc
        return errors

    def _write_file(self, key: str, data: bytes) -> Path:
        """Writes and renames the object into place; returns the folder to fsync."""
        path = self._path(key)
        # A failure to make the root is the disk's fault; past it, a file in
        # the way is another object's.
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise self._conflict(key) from None
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.replace(tmp, path)
            except IsADirectoryError:
                raise self._conflict(key) from None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return path.parent

    def _read(self, key: str, max_size: int) -> bytes:
        try:
            f = open(self._path(key), "rb")  # noqa: SIM115 - closed below
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise base.ObjectNotFound(key) from None
        with f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise base.ObjectNotFound(key)
            if st.st_size > max_size:
                raise base.ObjectTooLarge(key, st.st_size, max_size)
            data = f.read(max_size + 1)
        if len(data) > max_size:  # the file grew behind our back; objects never should
            raise base.ObjectTooLarge(key, None, max_size)
        return data

    def _size(self, key: str) -> int | None:
        try:
            st = os.stat(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def _remove(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except (IsADirectoryError, PermissionError):
            # A folder of other keys is not an object: nothing to delete.
            if not path.is_dir():
                raise

    def _conflict(self, key: str) -> base.InvalidKey:
        return base.InvalidKey(
            f"cannot store {key!r} in the {self.description}: an object and a folder"
            " of other objects would share a name (e.g. 'a' and 'a/b')"
        )

    @contextlib.contextmanager
    def _translate_errors(self, key: str) -> Iterator[None]:
        """Turn the file system's errors into the store's, in this one place."""
        try:
            yield
        except base.StoreError:
            raise
        except OSError as e:
            if e.errno == errno.ENAMETOOLONG:
                raise base.InvalidKey(f"key {key!r} is too long for this file system") from e
            raise base.StoreUnavailable(
                f"{self.description} failed on {key!r}: {e.strerror or e}"
            ) from e


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable; Windows cannot open folders, and renames there are durable."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
