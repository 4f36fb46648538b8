"""Server-side definitions of the task apps: how to cut work, check output, total it."""

from coordinator.apps.base import AppSpec, FindingPlan, OutputInvalid, WorkunitPlan
from coordinator.apps.bpsw_hunter import BpswHunter
from coordinator.apps.bpsw_large import BpswLarge
from coordinator.apps.bpsw_verify import BpswVerify
from coordinator.apps.carmile import Carmile
from coordinator.apps.sim_blocks import SimBlocks

REGISTRY: dict[str, AppSpec] = {app.name: app for app in (BpswHunter(), SimBlocks(), Carmile(), BpswVerify(), BpswLarge())}


def get(name: str) -> AppSpec:
    from coordinator.errors import InvalidInput

    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise InvalidInput(f"unknown app {name!r}; known apps: {known}") from None


__all__ = ["REGISTRY", "AppSpec", "FindingPlan", "OutputInvalid", "WorkunitPlan", "get"]
