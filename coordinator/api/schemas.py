"""Request and response shapes. Bounds here are the first line of defence against
hostile input; the domain re-checks what it relies on."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

# Names are shown to admins and volunteers: no control or bidirectional-override characters
# ((?!\n): Python's $ also matches before a final newline).
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100,
                                   pattern="^[^\\x00-\\x1f\\x7f\\u202a-\\u202e\\u2066-\\u2069]+$(?!\\n)")]
ShortText = Annotated[str, msgspec.Meta(max_length=64)]
MAX_HELD = 10_000
ResultId = Annotated[int, msgspec.Meta(ge=1, le=1 << 62)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1 << 62)]
Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=1e9)]


class CapabilitiesIn(msgspec.Struct, forbid_unknown_fields=True):
    platform: ShortText
    arch: ShortText
    cores: Annotated[int, msgspec.Meta(ge=1, le=4096)]
    memory_bytes: Count
    disk_free_bytes: Count
    client_version: ShortText
    benchmark: Annotated[float, msgspec.Meta(ge=0, le=1e15)] = 0.0


class EnrolIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    name: Name
    capabilities: CapabilitiesIn


class EnrolOut(msgspec.Struct):
    node_id: str
    secret: str


class HeartbeatIn(msgspec.Struct, forbid_unknown_fields=True):
    capabilities: CapabilitiesIn | None = None


class HeartbeatOut(msgspec.Struct):
    node_id: str
    status: str
    server_time: float
    trust_level: str = "probation"
    trust_score: float = 0.0
    credit: float = 0.0


class LeaseIn(msgspec.Struct, forbid_unknown_fields=True):
    max_results: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    projects: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=100)] | None = None
    # True: each signed bundle comes once, in LeaseOut.bundles, and assignments refer to it
    # by app_sha256 (instead of a copy in every assignment).
    bundle_refs: bool = False
    # The results the agent holds (running, or finished and not yet reported). With it, a
    # result still leased to the node that it does not hold (a lost reply) is sent again.
    held: Annotated[list[ResultId], msgspec.Meta(max_length=MAX_HELD)] | None = None


class PresignedOut(msgspec.Struct):
    method: str
    url: str
    headers: dict[str, str]
    expires_at: float


class AssignmentOut(msgspec.Struct):
    result_id: int
    workunit_id: int
    project: str
    app: str
    app_version: str
    params: dict[str, Any]
    deadline_at: float
    upload: PresignedOut
    app_bundle: dict[str, Any] | None = None  # signed code, verified by the client
    app_sha256: str | None = None


class LeaseOut(msgspec.Struct):
    assignments: list[AssignmentOut]
    server_time: float
    bundles: dict[str, dict[str, Any]] | None = None  # manifest sha256 -> bundle, with bundle_refs


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    result_id: Annotated[int, msgspec.Meta(ge=1, le=1 << 62)]
    outcome: Annotated[str, msgspec.Meta(pattern="^(success|error)$")]
    sha256: Annotated[str, msgspec.Meta(max_length=64)] = ""
    size: Count = 0
    cpu_seconds: Seconds = 0.0
    wall_seconds: Seconds = 0.0
    error: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    # The output itself (base64 in JSON) instead of an upload, for outputs up to 64 KiB.
    output: Annotated[bytes, msgspec.Meta(max_length=64 << 10)] | None = None


class ReportOut(msgspec.Struct):
    result_id: int
    state: str
    verdict: str | None
    duplicate: bool


class ReportBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    reports: Annotated[list[ReportIn], msgspec.Meta(min_length=1, max_length=256)]


class ReportItemOut(msgspec.Struct):
    """One report's outcome: accepted (ok, with its state) or refused (status, error, detail)."""

    result_id: int
    ok: bool
    status: int
    state: str | None = None
    verdict: str | None = None
    duplicate: bool = False
    error: str | None = None
    detail: str | None = None


class ReportBatchOut(msgspec.Struct):
    receipts: list[ReportItemOut]


class UploadUrlIn(msgspec.Struct, forbid_unknown_fields=True):
    result_id: Annotated[int, msgspec.Meta(ge=1, le=1 << 62)]


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=200)] = ""
    owner: Annotated[str, msgspec.Meta(max_length=100)] = ""
    ttl_seconds: Annotated[float, msgspec.Meta(ge=60, le=365 * 86400)] = 7 * 86400.0


class TokenOut(msgspec.Struct):
    token: str


class ProjectIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    app: ShortText
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    replication_policy: Annotated[str, msgspec.Meta(pattern="^(fixed|boinc|newral)$")] = "newral"


class WorkIn(msgspec.Struct, forbid_unknown_fields=True):
    params: Annotated[dict[str, str | int], msgspec.Meta(max_length=20)]
    min_quorum: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    target_results: Annotated[int, msgspec.Meta(ge=1, le=20)] = 1
    max_error_results: Annotated[int, msgspec.Meta(ge=0, le=50)] = 3
    max_total_results: Annotated[int, msgspec.Meta(ge=1, le=50)] = 8
    delay_bound: Annotated[float, msgspec.Meta(ge=10, le=30 * 86400)] = 3600.0


class WorkOut(msgspec.Struct):
    workunits: int


class ProjectStateIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Annotated[str, msgspec.Meta(pattern="^(active|paused)$")]


class NodeStatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Annotated[str, msgspec.Meta(pattern="^(active|quarantined|banned)$")]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ErrorOut(msgspec.Struct):
    error: str
    detail: str
