"""The coordinator's HTTP API as the agent sees it. Transport failures and 5xx
become CoordinatorUnavailable (try again later); other 4xx become Rejected (final
for that request)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import httpx

from client.agent.credentials import Credentials


class AgentApiError(Exception):
    pass


class CoordinatorUnavailable(AgentApiError):
    """Down, restarting, overloaded or unreachable: retry with backoff, and not before
    `retry_after` seconds when the coordinator said so (Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def delay(self, backoff: float) -> float:
        """Seconds to wait: the back-off, but at least what the coordinator asked for."""
        return max(backoff, self.retry_after or 0.0)


MAX_RETRY_AFTER = 600.0  # a coordinator can't park its agents for longer than this


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not used by the coordinator)."""
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return min(MAX_RETRY_AFTER, value) if value >= 0 else None


class Rejected(AgentApiError):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    if response.status_code >= 500 or response.status_code == 429:
        raise CoordinatorUnavailable(f"HTTP {response.status_code} from {response.request.url.path}",
                                     _retry_after(response))
    try:
        body = response.json()
        code, detail = str(body.get("error", "")), str(body.get("detail", ""))
    except ValueError:
        code, detail = "", response.text[:300]
    raise Rejected(response.status_code, code, detail)


MAX_HELD = 10_000  # the most held results a lease request may list (the coordinator's limit)


def lease_body(max_results: int, projects: list[str] | None, held: Collection[int] | None) -> dict[str, Any]:
    """A lease request. More held results than a request may list (a spool grown during a
    long outage of reports) are not listed at all: nothing is sent again then, rather than
    every lease being refused."""
    listed = None if held is None or len(held) > MAX_HELD else sorted(held)
    return {"max_results": max_results, "projects": projects or None, "bundle_refs": True, "held": listed}


class CoordinatorClient:
    def __init__(self, base_url: str, credentials: Credentials | None = None,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        # Idle connections expire before the coordinator's (uvicorn's 5 s keep-alive), so a
        # request is never sent on a connection the server is closing.
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0),
                                       limits=httpx.Limits(keepalive_expiry=2.0))

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, json: Any = None, auth: bool = True) -> Any:
        headers = {}
        if auth:
            if self.credentials is None:
                raise AgentApiError("this agent is not enrolled yet")
            headers["Authorization"] = f"Bearer {self.credentials.bearer()}"
        try:
            response = await self._http.request(method, self.base_url + path, json=json, headers=headers)
        except httpx.TransportError as exc:
            raise CoordinatorUnavailable(f"{type(exc).__name__}: {exc}") from None
        _raise_for(response)
        return response.json()

    async def enrol(self, token: str, name: str, capabilities: dict[str, Any]) -> Credentials:
        body = await self._call("POST", "/api/v1/enrol",
                                {"token": token, "name": name, "capabilities": capabilities}, auth=False)
        return Credentials(self.base_url, body["node_id"], body["secret"])

    async def heartbeat(self, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._call("POST", "/api/v1/nodes/heartbeat", {"capabilities": capabilities})  # type: ignore[no-any-return]

    async def lease(self, max_results: int, projects: list[str] | None,
                    held: Collection[int] | None = None) -> list[dict[str, Any]]:
        """`held`: the results this agent is running or has yet to report; any other result
        the coordinator has leased to it (its reply lost, or the agent restarted) comes back.
        None: say nothing (nothing comes back)."""
        body = await self._call("POST", "/api/v1/work/lease", lease_body(max_results, projects, held))
        assignments: list[dict[str, Any]] = body["assignments"]
        # Each signed bundle comes once per response; apps.resolve expects it on the assignment.
        untrusted_bundles = body.get("bundles") or {}
        for a in assignments:
            if a.get("app_bundle") is None and a.get("app_sha256") in untrusted_bundles:
                a["app_bundle"] = untrusted_bundles[a["app_sha256"]]
        return assignments

    async def upload_url(self, result_id: int) -> dict[str, Any]:
        return await self._call("POST", "/api/v1/work/upload-url", {"result_id": result_id})  # type: ignore[no-any-return]

    async def upload(self, presigned: dict[str, Any], data: bytes) -> None:
        try:
            response = await self._http.request(
                presigned["method"], presigned["url"], content=data, headers=presigned.get("headers") or {}
            )
        except httpx.TransportError as exc:
            raise CoordinatorUnavailable(f"upload failed: {type(exc).__name__}: {exc}") from None
        if response.status_code in (403, 413):
            # 403: an expired or unusable URL, so the caller asks for a fresh one; 413: too big.
            raise Rejected(response.status_code, "upload_refused", response.text[:300])
        if response.status_code >= 400:
            # Anything else is the object store's trouble, not a verdict on the result: retry later.
            raise CoordinatorUnavailable(f"upload failed with HTTP {response.status_code}")

    async def report(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/v1/work/report", body)  # type: ignore[no-any-return]

    async def report_batch(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One receipt per report, in order: {"ok": true, "state", ...} or {"ok": false, "status", "detail"}."""
        body = await self._call("POST", "/api/v1/work/report-batch", {"reports": bodies})
        receipts: list[dict[str, Any]] = body["receipts"]
        if len(receipts) != len(bodies):
            raise CoordinatorUnavailable("the coordinator answered a report batch with the wrong number of receipts")
        return receipts
