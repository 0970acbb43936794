"""Harvesting through a flaky OAI-PMH server: a seeded ~20 % of listing requests fail (HTTP 500,
a stall past the client's timeout, a cut-off body, a connection reset). With no in-request
retries every fault stops the run, so the harvest is repeated, as a scheduled refresh repeats
it, until it reports a complete harvest; then every record is in the catalogue exactly once
and each has exactly one "new" version, however many partial runs read it before.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.facedb import rows
from tests.support.faultserver import FaultInjector
from tests.support.localserver import LocalServer
from tests.support.oaiserver import FsuOaiServer

RECORDS = 93  # the FSU dump: 5 pages of 20 (the last has 13)
MAX_RUNS = 25
FAULT_RATE = 0.2
SEED = 9  # with this seed: 6 faults (all four kinds) over 7 runs


@pytest.fixture(scope="module")
def fsu_dump(shared_data: Path) -> bytes:
    return (shared_data / "oai-pmh" / "fsu_mods_dump" / "fsu_admiral.mods.xml").read_bytes()


def test_repeated_harvests_through_a_flaky_server_store_every_record_once(fsu_dump, home):
    oai = FsuOaiServer(fsu_dump)
    faults = FaultInjector(oai, rate=FAULT_RATE, seed=SEED, stall=1.6)
    with LocalServer(faults) as server:
        args = ["harvest", "oai", server.url("/oai"), "--prefix", "mods", "--retries", "0", "--timeout", "1"]
        outcomes = []
        for _ in range(MAX_RUNS):
            result = run_cli(home, *args)
            outcomes.append(result)
            assert result.exit_code in (0, 1), (result.output, result.exception)
            if result.exit_code == 0:
                break
        injected = dict(faults.injected)
        requests = len(server.requests)

    runs = len(outcomes)
    print(f"\nfaults injected {sum(injected.values())} {injected} over {requests} requests; "
          f"{runs} harvest run(s) until complete")
    assert outcomes[-1].exit_code == 0, f"still incomplete after {MAX_RUNS} runs: {outcomes[-1].output}"
    assert all("harvest incomplete" in failed.output for failed in outcomes[:-1])
    assert "harvest incomplete" not in outcomes[-1].output
    assert set(injected) == {"http500", "timeout", "truncated", "reset"}, "the seed must inject a real mix of faults"
    assert runs == sum(injected.values()) + 1, "with --retries 0 every fault stops the run it hits"

    assert rows(home, "SELECT count(*), count(DISTINCT source_item_id) FROM items") == [(RECORDS, RECORDS)]
    assert rows(home, "SELECT change, count(*), count(DISTINCT item_id) FROM item_versions GROUP BY change") \
        == [("new", RECORDS, RECORDS)]
    statuses = [status for (status,) in rows(home, "SELECT status FROM runs WHERE stage = 'harvest.oai' ORDER BY id")]
    assert statuses == ["failed"] * (runs - 1) + ["ok"]
    [(watermark_set,)] = rows(home, "SELECT count(*) FROM sources WHERE watermark IS NOT NULL")
    assert watermark_set == 1, "only the complete run advances the watermark"
