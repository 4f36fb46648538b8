"""The updater as a background companion of a running agent (headless or GUI):
checks at start and then every `check_interval`, ends a new version's trial once it
has run for `confirm_after` seconds, and when an update is applied asks the agent
to stop so `finish()` can restart into the new version."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from client.updater.config import UpdateConfigError, load_update_config
from client.updater.install import Installation
from client.updater.updater import Ask, Outcome, Updater

log = logging.getLogger("newral.updater")


class UpdateService:
    def __init__(self, updater: Updater, request_stop: Callable[[], None],
                 installation: Installation | None) -> None:
        self.updater = updater
        self.request_stop = request_stop
        self.installation = installation
        self.restart: Path | None = None
        self.last: Outcome | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._checks()))
        if self.installation is not None and self.installation.state().status == "trial":
            self._tasks.append(asyncio.create_task(self._confirm_later()))

    async def _confirm_later(self) -> None:
        await asyncio.sleep(self.updater.config.confirm_after)
        assert self.installation is not None
        self.installation.confirm()

    async def _checks(self) -> None:
        while True:
            self.last = await self.updater.run_once()
            if self.last.status == "applied":
                self.restart = self.last.restart
                self.request_stop()
                return
            await asyncio.sleep(self.updater.config.check_interval)

    async def finish(self) -> int:
        """After the agent stopped: restart into an applied update, else return exit code 0."""
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with suppress(asyncio.CancelledError):
                await t
        await self.updater.close()
        if self.restart is None:
            return 0
        log.info("update.restart executable=%s", self.restart)
        logging.shutdown()
        os.execv(self.restart, [str(self.restart), *sys.argv[1:]])
        return 0  # not reached


def start(data_dir: Path, coordinator: str, request_stop: Callable[[], None], *,
          installed_version: str, ask: Ask | None = None) -> UpdateService | None:
    """Starts the update service if an update channel is configured; None otherwise."""
    try:
        cfg = load_update_config(data_dir)
    except UpdateConfigError as exc:
        log.error("update.disabled reason=%s", exc)
        return None
    if not cfg.enabled:
        return None
    if not cfg.coordinator:
        from dataclasses import replace

        cfg = replace(cfg, coordinator=coordinator)
    installation = Installation.detect()
    updater = Updater(cfg, installed_version=installed_version, state_dir=data_dir / "updates",
                      installation=installation, ask=ask)
    service = UpdateService(updater, request_stop, installation)
    service.start()
    log.info("update.channel channel=%s platform=%s managed=%s", cfg.channel, cfg.platform,
             installation is not None)
    return service
