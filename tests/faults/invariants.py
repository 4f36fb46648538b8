"""What must hold in a coordinator's database after any fault: read straight from
PostgreSQL, so the check does not trust the API it is checking."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.fixtures.s3 import S3Endpoint


def s3_env(s3: S3Endpoint) -> dict[str, str]:
    return {"NEWRAL_OBJECT_STORE": f"s3://{s3.create_bucket()}", "NEWRAL_S3_ENDPOINT": s3.endpoint_url,
            "NEWRAL_S3_ACCESS_KEY": s3.access_key, "NEWRAL_S3_SECRET_KEY": s3.secret_key,
            "NEWRAL_S3_REGION": s3.region}


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def query(url: str, sql: str) -> list[dict[str, Any]]:
    return [dict(r) for r in asyncio.run(_fetch(url, sql))]


def check(url: str) -> dict[str, int]:
    """Asserts the invariants; returns a few counts for the test to check further."""
    twice = query(url, "SELECT workunit_id, count(*) AS n FROM events WHERE kind = 'workunit.validated' "
                       "GROUP BY workunit_id HAVING count(*) > 1")
    assert not twice, f"workunits validated more than once: {twice}"
    double_credit = query(url, "SELECT result_id, reason, count(*) AS n FROM credit_ledger "
                               "GROUP BY result_id, reason HAVING count(*) > 1")
    assert not double_credit, f"credit granted twice: {double_credit}"
    grants = query(url, "SELECT count(*) AS n FROM events WHERE kind = 'credit.granted'")[0]["n"]
    ledger = query(url, "SELECT count(*) AS n FROM credit_ledger WHERE reason = 'granted'")[0]["n"]
    assert grants == ledger, f"{grants} credit.granted events but {ledger} ledger rows"
    drift = query(url, "SELECT n.id, n.credit, coalesce(sum(c.amount), 0) AS ledger FROM nodes n "
                       "LEFT JOIN credit_ledger c ON c.node_id = n.id GROUP BY n.id, n.credit "
                       "HAVING abs(n.credit - coalesce(sum(c.amount), 0)) > 1e-6")
    assert not drift, f"node credit differs from its ledger: {drift}"
    # A result is leased again only after its previous lease expired: never twice at once.
    overleased = query(url, """
        SELECT result_id, count(*) FILTER (WHERE kind = 'result.leased') AS leased,
               count(*) FILTER (WHERE kind = 'result.expired') AS expired
        FROM events WHERE result_id IS NOT NULL GROUP BY result_id
        HAVING count(*) FILTER (WHERE kind = 'result.leased') > 1 + count(*) FILTER (WHERE kind = 'result.expired')""")
    assert not overleased, f"results leased twice at once: {overleased}"
    one_node_two_replicas = query(url, "SELECT workunit_id, node_id FROM results WHERE node_id IS NOT NULL "
                                       "AND state IN ('leased', 'reported') GROUP BY workunit_id, node_id "
                                       "HAVING count(*) > 1")
    assert not one_node_two_replicas, f"one node holds two replicas of a workunit: {one_node_two_replicas}"
    valid_without_credit = query(url, "SELECT r.id FROM results r LEFT JOIN credit_ledger c "
                                      "ON c.result_id = r.id AND c.reason = 'granted' "
                                      "WHERE r.verdict = 'valid' AND c.id IS NULL")
    assert not valid_without_credit, f"valid results without credit: {valid_without_credit}"
    counts = query(url, """SELECT
        (SELECT count(*) FROM workunits) AS workunits,
        (SELECT count(*) FROM workunits WHERE state = 'validated') AS validated,
        (SELECT count(*) FROM events WHERE kind = 'workunit.validated') AS validated_events,
        (SELECT count(*) FROM events WHERE kind = 'result.expired') AS expired,
        (SELECT count(*) FROM credit_ledger) AS credits""")[0]
    return {k: int(v) for k, v in counts.items()}
