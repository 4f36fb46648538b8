"""How the agent reads the coordinator's refusals: which are worth retrying, and when."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from client.agent.api import MAX_HELD, MAX_RETRY_AFTER, CoordinatorUnavailable, Rejected, _raise_for, lease_body
from coordinator.api import schemas


def _response(status: int, headers: dict[str, str] | None = None, body: object = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json=body or {},
                          request=httpx.Request("POST", "http://coordinator/api/v1/work/lease"))


@pytest.mark.parametrize("header, wanted", [("7", 7.0), ("0", 0.0), ("99999", MAX_RETRY_AFTER),
                                            ("soon", None), ("-3", None), (None, None)])
def test_unavailable_carries_the_coordinators_retry_after(header: str | None, wanted: float | None) -> None:
    with pytest.raises(CoordinatorUnavailable) as caught:
        _raise_for(_response(503, {"Retry-After": header} if header is not None else None))
    assert caught.value.retry_after == wanted


def test_the_agent_waits_at_least_as_long_as_it_was_asked() -> None:
    exc = CoordinatorUnavailable("HTTP 503", retry_after=5.0)
    assert exc.delay(1.2) == 5.0  # its own back-off would have been shorter
    assert exc.delay(30.0) == 30.0  # ... or longer, and then it keeps its own
    assert CoordinatorUnavailable("connection refused").delay(1.2) == 1.2


def test_client_errors_are_refusals_not_outages() -> None:
    with pytest.raises(Rejected) as caught:
        _raise_for(_response(409, body={"error": "conflict", "detail": "already reported"}))
    assert caught.value.status == 409 and caught.value.detail == "already reported"
    _raise_for(_response(200))  # success: nothing raised


@pytest.mark.parametrize("held, listed", [(None, None), ([], []), ({9, 3}, [3, 9]),
                                          (range(1, MAX_HELD + 1), list(range(1, MAX_HELD + 1))),
                                          (range(1, MAX_HELD + 2), None)])
def test_a_lease_lists_what_the_agent_holds_within_the_coordinators_limit(held: object, listed: object) -> None:
    body = lease_body(4, ["hunt"], held)  # type: ignore[arg-type]
    assert body["held"] == listed
    # The coordinator's own request shape takes it, whatever the agent holds.
    msgspec.json.decode(msgspec.json.encode(body), type=schemas.LeaseIn)
    assert MAX_HELD == schemas.MAX_HELD
