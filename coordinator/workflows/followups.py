"""What a validated task's output sets off, per app: the tasks it spawns
(dynamic fan-out) and the findings it settles. Pure decisions where possible;
the engine stores what is returned.

- carmile plan → one enumeration task per slice (the app's spawn()).
- bpsw-hunter sweep → one bpsw-verify task per BPSW claim, quorum 2 on
  independent nodes (trusted nodes only once leasing knows trust).
- bpsw-verify → the claim's finding becomes confirmed, or is refuted; a refuted
  claim never becomes a confirmed finding.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import apps
from coordinator.db.models import Finding, Workunit
from coordinator.db.workflow_models import Workflow, WorkflowTask
from coordinator.domain import events
from coordinator.workflows.document import TaskSpec

CLAIM_KIND = "bpsw-claim"
FOLLOW_UP_REPLICATION = {"min_quorum": 2, "target_results": 2, "max_total_results": 6}


@dataclass(frozen=True)
class FollowUp:
    children: tuple[TaskSpec, ...] = ()


def spawn_specs(task_app: str, params: dict[str, Any], summary: dict[str, Any] | None,
                replication: dict[str, Any]) -> list[TaskSpec]:
    """The tasks a validated output spawns (no I/O)."""
    if summary is None:
        return []
    if task_app == "bpsw-hunter":
        return [TaskSpec(name=f"verify-{n}", app="bpsw-verify", params={"n": str(n)},
                         replication=dict(FOLLOW_UP_REPLICATION))
                for n in summary.get("bpsw_claims", [])]
    spawn = getattr(apps.get(task_app), "spawn", None)
    if spawn is None:
        return []
    return [TaskSpec(name=c["name"], app=c["app"], params=c["params"], cost=float(c.get("cost", 1.0)),
                     replication=dict(c.get("replication", replication)))
            for c in spawn(params, summary)]


async def after_validation(session: AsyncSession, workflow: Workflow, task: WorkflowTask, wu: Workunit,
                           now: float) -> FollowUp:
    if task.app == "bpsw-verify" and wu.summary is not None:
        await settle_claim(session, workflow.project_id, wu, wu.summary, now)
    return FollowUp(children=tuple(spawn_specs(task.app, task.params, wu.summary, task.replication)))


async def settle_claim(session: AsyncSession, project_id: int, wu: Workunit, summary: dict[str, Any],
                       now: float) -> None:
    value = summary["n"]
    status = "confirmed" if summary["confirmed"] else "refuted"
    finding = await session.scalar(select(Finding).where(
        Finding.project_id == project_id, Finding.kind == CLAIM_KIND, Finding.value == value))
    data = {"factors": summary["factors"], "strong_base2": summary["strong_base2"],
            "strong_lucas": summary["strong_lucas"], "follow_up_workunit": wu.id}
    if finding is not None:
        finding.status = status
        finding.data = {**finding.data, **data}
    elif status == "confirmed":
        assert wu.canonical_result_id is not None
        session.add(Finding(project_id=project_id, workunit_id=wu.id, result_id=wu.canonical_result_id,
                            kind=CLAIM_KIND, value=value, status=status, data=data, created_at=now))
    events.record(session, f"finding.{status}", now, project_id=project_id, workunit_id=wu.id,
                  result_id=wu.canonical_result_id,
                  level=logging.ERROR if status == "confirmed" else logging.WARNING,
                  value=value, factors=summary["factors"])
