"""Rate limits on enrolment and leasing, per node and per client address.

A token bucket per key, in memory, in each worker process: a limit of R per
second with burst B lets B requests through at once, then one every 1/R
seconds. With N worker processes a client may get up to N times the rate; the
limits are there to blunt floods and token guessing, not to meter fairly.

Keys: the client address (scope["client"]) and, for node requests, a hash of
the whole bearer credential, so a stranger who knows a node's id cannot use up
that node's allowance. A refused request gets 429 with Retry-After and the
usual {"error", "detail"} body; agents treat 429 as "back off and retry".
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.types import ASGIApp, Receive, Scope, Send

from coordinator.settings import Settings

MAX_KEYS = 100_000  # buckets kept per limiter; full (idle) ones are dropped first


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float

    @property
    def enabled(self) -> bool:
        return self.per_second > 0 and self.burst > 0


class Limiter:
    """Token buckets keyed by string. `take` returns 0 if allowed, else the
    seconds until a token is available."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, at = self._buckets.get(key, (self.rate.burst, now))
        tokens = min(self.rate.burst, tokens + (now - at) * self.rate.per_second)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now)
            return 0.0
        self._store(key, tokens, now)
        return (1.0 - tokens) / self.rate.per_second

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            self._prune(now)
        self._buckets[key] = (tokens, now)

    def _prune(self, now: float) -> None:
        full = [k for k, (t, at) in self._buckets.items()
                if t + (now - at) * self.rate.per_second >= self.rate.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= MAX_KEYS:  # still full of busy keys: forget the oldest half
            for k in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: MAX_KEYS // 2]:
                del self._buckets[k]


@dataclass(frozen=True)
class Rule:
    path: str
    per_address: Limiter | None
    per_credential: Limiter | None
    what: str


def _credential_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            return hashlib.sha256(value.strip()).hexdigest()[:32]
    return None


def _limiter(per_second: float, burst: float) -> Limiter | None:
    rate = Rate(per_second, burst)
    return Limiter(rate) if rate.enabled else None


def rules_from(settings: Settings) -> list[Rule]:
    return [
        Rule("/api/v1/enrol",
             _limiter(settings.rate_enrol_per_address, settings.rate_enrol_burst), None, "enrolment"),
        Rule("/api/v1/work/lease",
             _limiter(settings.rate_lease_per_address, settings.rate_lease_address_burst),
             _limiter(settings.rate_lease_per_node, settings.rate_lease_node_burst), "leasing"),
    ]


def _too_many(retry_after: float, detail: str) -> tuple[dict[str, object], bytes]:
    body = json.dumps({"error": "rate_limited", "detail": detail}).encode()
    start = {"type": "http.response.start", "status": 429,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()),
                         (b"retry-after", str(max(1, math.ceil(retry_after))).encode())]}
    return start, body


def middleware(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI middleware factory for Litestar's `middleware=[...]`."""
    rules = {r.path: r for r in rules_from(settings)}

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            rule = rules.get(scope.get("path", "")) if scope["type"] == "http" else None
            if rule is not None and scope.get("method") == "POST":
                wait, detail = 0.0, ""
                if rule.per_credential is not None:
                    key = _credential_key(scope.get("headers", []))  # type: ignore[arg-type]
                    if key is not None:
                        wait = rule.per_credential.take(key)
                        detail = f"too many {rule.what} requests from this node"
                if not wait and rule.per_address is not None:
                    client = scope.get("client")
                    wait = rule.per_address.take(client[0] if client else "?")
                    detail = f"too many {rule.what} requests from this address"
                if wait:
                    start, body = _too_many(wait, f"{detail}; retry in {max(1, math.ceil(wait))} s")
                    await send(start)  # type: ignore[arg-type]
                    await send({"type": "http.response.body", "body": body})
                    return
            await app(scope, receive, send)

        return guarded

    return wrap
