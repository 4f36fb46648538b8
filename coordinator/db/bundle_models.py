"""Signed task-app bundles as maintainers published them. The coordinator keeps
the bundle (manifest, files, signature) but no key: clients verify against the
project key they pinned."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db.models import Base, Id


class AppBundle(Base):
    __tablename__ = "app_bundles"
    __table_args__ = (UniqueConstraint("project_id", "app_id", "version"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    version: Mapped[str] = mapped_column(String(32))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[float]
