"""The AI orchestrator's stored state: the one current mode (kill switch target)
and the recommendations the models made, with what an admin did about them.

Recommendation states::

    open ──admin applies──► applied        open ──admin dismisses──► dismissed
    open ──Partial mode acts on it itself──► applied (decided_by "orchestrator")
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db.models import Base, Id


class OrchestratorSetting(Base):
    """One row (id 1). No row means AI Off."""

    __tablename__ = "orchestrator_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="off")  # off|advisory|partial|full
    partial_actions: Mapped[list[Any]]  # the actions Partial mode may apply by itself
    changed_at: Mapped[float]
    changed_by: Mapped[str] = mapped_column(String(100))
    models: Mapped[dict[str, Any] | None]  # the last trained predictors' coefficients and errors


class Recommendation(Base):
    __tablename__ = "orchestrator_recommendations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[float]
    kind: Mapped[str] = mapped_column(String(32))  # move-work | large-to-fast | queue-dry | raise-replication
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    node_id: Mapped[str | None] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(BigInteger)
    workunit_id: Mapped[int | None] = mapped_column(BigInteger)
    result_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str] = mapped_column(String(400))
    predicted_benefit: Mapped[float]  # node-seconds saved, as the model sees it
    prediction: Mapped[dict[str, Any]]  # the numbers behind it
    decided_at: Mapped[float | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
