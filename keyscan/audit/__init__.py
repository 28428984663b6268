"""Organisation-wide audits: ``keyscan audit`` and ``keyscan merge``.

Many repositories, each fetched into a cache folder and audited like
``keyscan history`` (every blob reachable from every ref, with provenance),
one merged report, and a result cache so that a re-audit scans only what is
new. Modules, in the order data flows:

``repos``        the repository list: local paths and URLs, one identity each
``shard``        ``--shard I/N``: a stable, balanced slice of that list
``gitcache``     bare copies in the cache, fetched with the hardened git
``worker``       one repository: fetch, then reuse / extend / redo its audit
``incremental``  extend a cached audit with the new commits only
``executors``    a local process pool or dask, one ``concurrent.futures`` path
``cache``        the cache folder and its result files
``serial``       reports to and from JSON (cache entries, shard reports)
``merge``        one report from many repositories or shards
``run``          the coordinator tying it together
"""
from __future__ import annotations

from .run import AuditOptions, AuditResult, Done, audit
from .worker import ScanSpec

__all__ = ["AuditOptions", "AuditResult", "Done", "ScanSpec", "audit"]
