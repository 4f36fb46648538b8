"""Newral's object store: bytes under keys, in a local folder or an S3 bucket.

`open_store` builds one from settings; everything a caller needs is named here.
"""

from coordinator.store.base import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    PresignedRequest,
    StoreError,
    StoreUnavailable,
    validate_key,
)
from coordinator.store.factory import open_store
from coordinator.store.local import LocalStore
from coordinator.store.s3 import S3Store
from coordinator.store.signing import (
    SignatureError,
    SignatureExpired,
    SignatureInvalid,
    UrlSigner,
    load_or_create_secret,
)

__all__ = [
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
