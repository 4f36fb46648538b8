"""Why an update is refused. Each message is the clear log line a person reads.

    UpdateError
    ├── ManifestInvalid       not a manifest we understand (malformed, wrong fields, too big)
    ├── SignatureRejected     unsigned, signed by a key we do not pin, or altered after signing
    ├── ManifestExpired       past its expiry: a freeze attack or a stale channel
    ├── WrongTarget           signed for another platform or channel
    ├── RollbackRefused       older than what is installed or was seen before
    ├── DownloadRejected      a file's size or hash differs, or the download was cut short
    └── KeyFileError          a private key file cannot be written or opened
"""

from __future__ import annotations


class UpdateError(Exception):
    reason = "error"


class ManifestInvalid(UpdateError):
    reason = "invalid"


class SignatureRejected(UpdateError):
    reason = "signature"


class ManifestExpired(UpdateError):
    reason = "expired"


class WrongTarget(UpdateError):
    reason = "wrong-target"


class RollbackRefused(UpdateError):
    reason = "rollback"


class DownloadRejected(UpdateError):
    reason = "download"


class KeyFileError(UpdateError):
    reason = "key-file"
