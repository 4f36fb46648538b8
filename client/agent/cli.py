"""`newral-agent`: the headless volunteer agent.

    newral-agent --coordinator URL --token TOKEN     enrol (first time) and work
    newral-agent --coordinator URL                   work with stored credentials
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path

from client.agent import host
from client.agent.api import CoordinatorClient, CoordinatorUnavailable, Rejected
from client.agent.backoff import Backoff
from client.agent.config import AgentConfig, ConfigError, load_config
from client.agent.credentials import Credentials, CredentialStore
from client.agent.loop import Agent
from client.updater import service as update_service

log = logging.getLogger("newral.agent")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newral-agent", description="The headless Newral volunteer agent.")
    p.add_argument("--coordinator", help="coordinator URL, e.g. http://127.0.0.1:8470")
    p.add_argument("--token", help="one-time enrolment token (first run only)")
    p.add_argument("--data-dir", type=Path, help="where the agent keeps its spool and work folders")
    p.add_argument("--name", help="this machine's name as the coordinator shows it")
    p.add_argument("--concurrency", type=int, help="tasks at once (default: cores - 1, at least 1)")
    p.add_argument("--projects", help="comma-separated project names to work for (default: all)")
    p.add_argument("--no-keyring", action="store_true", help="keep credentials in a 0600 file")
    p.add_argument("--log-level", default="INFO")
    return p


async def ensure_credentials(cfg: AgentConfig, store: CredentialStore, token: str | None,
                             stopping: asyncio.Event) -> Credentials | None:
    creds = store.load(cfg.coordinator)
    if creds is not None:
        return creds
    if not token:
        raise ConfigError(f"this agent is not enrolled with {cfg.coordinator}; pass --token")
    client = CoordinatorClient(cfg.coordinator)
    backoff = Backoff(base=0.5, cap=cfg.backoff_cap)
    try:
        while not stopping.is_set():
            try:
                creds = await client.enrol(token, cfg.name or socket.gethostname()[:100],
                                           host.capabilities(cfg.data_dir, _benchmark()))
                break
            except CoordinatorUnavailable as exc:
                delay = backoff.next_delay()
                log.warning("enrol.unavailable retry_in=%.1fs error=%s", delay, exc)
                await asyncio.sleep(delay)
        else:
            return None
    finally:
        await client.close()
    store.save(creds)
    log.info("enrol.ok node=%s credentials_in=%s", creds.node_id, store.where)
    return creds


def _benchmark() -> float:
    """Integers swept per second by the BPSW kernel on one core (a 0.1 s probe)."""
    import time

    try:
        from cyext import bpsw
    except ImportError:
        return 0.0
    start, n = time.perf_counter(), 2_000_000
    bpsw.sweep(10**12, 10**12 + n)
    return n / max(time.perf_counter() - start, 1e-9)


async def amain(args: argparse.Namespace) -> int:
    cfg = load_config(
        coordinator=args.coordinator, data_dir=args.data_dir, name=args.name,
        concurrency=args.concurrency, projects=args.projects,
    )
    if not cfg.coordinator:
        raise ConfigError("no coordinator URL: pass --coordinator or set it in agent.toml")
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    agent: Agent | None = None

    def _stop() -> None:
        stopping.set()
        if agent is not None:
            agent.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stop)

    store = CredentialStore(cfg.data_dir, use_keyring=False if args.no_keyring else None)
    try:
        creds = await ensure_credentials(cfg, store, args.token, stopping)
    except Rejected as exc:
        print(f"newral-agent: enrolment refused: {exc.detail}", file=sys.stderr)
        return 2
    if creds is None:
        return 0
    client = CoordinatorClient(cfg.coordinator, creds)
    agent = Agent(cfg, client)
    if stopping.is_set():
        agent.stop()
    # None unless an update channel is configured (update.toml or NEWRAL_UPDATE_CHANNEL).
    updates = update_service.start(cfg.data_dir, cfg.coordinator, _stop, installed_version=host.CLIENT_VERSION)
    try:
        await agent.run()
    finally:
        await client.close()
    return await updates.finish() if updates is not None else 0  # restarts into an applied update


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return asyncio.run(amain(args))
    except ConfigError as exc:
        print(f"newral-agent: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
