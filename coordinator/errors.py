"""Domain errors. Domain code raises these; each front end maps them once
(the HTTP layer in api/errors.py, the CLI by printing the message).

    DomainError
    ├── InvalidInput        400/422  the request is well-formed JSON but says something impossible
    ├── Unauthorized        401      missing or wrong credentials
    ├── Forbidden           403      authenticated, but not allowed (another node's result, a banned node)
    ├── NotFound            404
    ├── Conflict            409      the state does not allow it (token used, result already reported)
    │   └── LeaseExpired    409      the lease's deadline has passed
    ├── PayloadTooLarge     413
    └── Unavailable         503      a backend (database, object store) is down
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class LeaseExpired(Conflict):
    code = "lease_expired"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
