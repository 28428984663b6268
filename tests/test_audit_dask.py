"""keyscan audit on a real dask.distributed LocalCluster with several worker
processes: the same report as the local process pool, and the cache is
shared with it (a dask re-audit of a local audit scans nothing)."""
from __future__ import annotations

import os

import pytest

from helpers import fake_immutable_secret, make_repo
from test_audit import as_json, engine_spec, make_org, run_audit  # noqa: F401 - engine_spec is a fixture

distributed = pytest.importorskip("distributed")


def _compiled_rules():
    from keyscan.audit import worker

    return os.getpid(), sorted(worker._ENGINES)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50) as c:
        yield c


def test_dask_report_equals_the_local_one(tmp_path, engine_spec, cluster):
    org = make_org(tmp_path)
    extra = make_repo(tmp_path / "org" / "mobile")
    extra.commit("init", {"app/config.ts": f"export const key = '{fake_immutable_secret(seed=51)}';\n"})
    repos = [*(r.path for r in org.values()), extra.path, tmp_path / "not-there"]
    local = run_audit(engine_spec, repos, tmp_path / "local-cache")
    seen = []
    on_dask = run_audit(engine_spec, repos, tmp_path / "dask-cache", executor="dask", scheduler=cluster.scheduler_address, on_result=seen.append)
    assert on_dask.statuses == local.statuses == {"full": 4, "failed": 1}
    assert as_json(on_dask.report) == as_json(local.report)
    assert len(on_dask.report.findings) == 4 and len(on_dask.report.errors) == 1
    # The tasks ran in the cluster's worker processes, which compiled the rules.
    with distributed.Client(cluster) as client:
        compiled = client.run(_compiled_rules)
    assert len(compiled) == 3 and sum(1 for pid, digests in compiled.values() if digests and pid != os.getpid()) >= 1
    # Same cache, other executor: nothing to scan.
    again = run_audit(engine_spec, repos, tmp_path / "local-cache", executor="dask", scheduler=cluster.scheduler_address)
    assert again.statuses == {"unchanged": 4, "failed": 1}
    assert as_json(again.report) == as_json(local.report)
