"""What the coordinator needs to know about an app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


class OutputInvalid(ValueError):
    """A node's output is malformed or provably wrong."""


@dataclass(frozen=True)
class WorkunitPlan:
    params: dict[str, Any]
    cost: float


@dataclass(frozen=True)
class FindingPlan:
    kind: str
    value: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedOutput:
    summary: dict[str, Any]
    findings: tuple[FindingPlan, ...] = ()


@dataclass(frozen=True)
class AuditVerdict:
    """The result of recomputing a few randomly chosen parts of an output."""

    ok: bool
    detail: str
    cost_fraction: float  # audit work relative to computing the whole workunit


class AppSpec(Protocol):
    name: str
    version: str
    description: str

    def plan(self, request: dict[str, Any]) -> list[WorkunitPlan]:
        """Cuts an admin's work request into workunits; InvalidInput on a bad request."""

    def check(self, params: dict[str, Any], data: bytes) -> CheckedOutput:
        """Parses and checks one result's output for these params; OutputInvalid if wrong."""

    def totals(self, summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Adds up the canonical results' summaries of a project."""

    # Optional: `reference_rate` (work units per reference-CPU-second, for credit) and
    # `audit(params, data, rng) -> AuditVerdict` (a cheap proof of work).
