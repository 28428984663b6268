"""Where the repositories are audited: a local process pool or a dask
cluster, through one code path: both are ``concurrent.futures.Executor``s
(``ProcessPoolExecutor``; dask's ``Client.get_executor()``), and ``run``
only submits, waits and collects.

Faults:

* A task that raises comes back as a failure of that repository (the type
  and message; never a traceback).
* A local worker process that dies (killed, out of memory, crashed) breaks
  the whole pool, and every unfinished task with it. Those tasks are run
  again, each alone in a pool of one process, a few such pools at a time:
  the repositories that were only unlucky finish, and the one whose worker
  dies again is reported as such.
* On dask, a dead worker's task is rescheduled by the scheduler; after
  ``distributed.scheduler.allowed-failures`` it fails with ``KilledWorker``,
  reported like any other failure.
* Ctrl-C (or any exception in the caller's callback) cancels what has not
  started and stops the local workers; what finished is already in the
  cache.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from ..errors import KeyscanError

EXECUTORS = ("local", "dask")


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent handles it.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A local pool; forked where the platform can (workers inherit the
    compiled rules), spawned elsewhere."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=_worker_init)


def _stop(executor: cf.Executor) -> None:
    """Shut ``executor`` down now: queued work cancelled, local workers ended."""
    procs = list((getattr(executor, "_processes", None) or {}).values())  # ProcessPoolExecutor's workers
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # dask's ClientExecutor: wait=False cancels
        executor.shutdown(wait=False)
    for p in procs:
        try:
            p.terminate()
        except (OSError, AttributeError):
            pass
    for p in procs:
        try:
            p.join(5)
        except (OSError, AssertionError, AttributeError):
            pass


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return "the dask worker running it died (the scheduler gave up after retrying it)"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{name}: {text}"[:300] if text else name


Outcome = tuple[str, Any]  # ("ok", result) | ("error", message) | ("died", message)


def run(
    executor: cf.Executor,
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    solo: Callable[[], cf.Executor] | None = None,
    parallel_solo: int = 1,
) -> Iterator[tuple[int, Outcome]]:
    """Run ``fn(item)`` for every item on ``executor``; yield (index,
    outcome) as each finishes. ``solo`` makes a one-process executor for the
    tasks a broken pool took down with it."""
    broken: list[int] = []
    futures = {executor.submit(fn, item): i for i, item in enumerate(items)}
    try:
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                yield i, ("ok", fut.result())
            except BrokenProcessPool:
                broken.append(i)
            except cf.CancelledError:
                yield i, ("error", "cancelled")
            except Exception as exc:  # noqa: BLE001 - one repository's failure, not the audit's
                yield i, ("error", _describe(exc))
    except BaseException:
        _stop(executor)
        raise
    if broken:
        yield from _isolated(fn, items, sorted(broken), solo, parallel_solo)


def _isolated(fn, items, indices: list[int], solo, parallel: int) -> Iterator[tuple[int, Outcome]]:
    if solo is None:
        for i in indices:
            yield i, ("died", "the worker process died while auditing it")
        return
    pending = list(indices)
    running: dict[cf.Future, tuple[int, cf.Executor]] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, parallel):
                i = pending.pop(0)
                ex = solo()
                running[ex.submit(fn, items[i])] = (i, ex)
            done, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
            for fut in done:
                i, ex = running.pop(fut)
                try:
                    outcome: Outcome = ("ok", fut.result())
                except BrokenProcessPool:
                    outcome = ("died", "the worker process died while auditing it (twice: killed, out of memory or crashed)")
                except Exception as exc:  # noqa: BLE001
                    outcome = ("error", _describe(exc))
                ex.shutdown(wait=True)
                yield i, outcome
    except BaseException:
        for _, ex in running.values():
            _stop(ex)
        raise


@contextmanager
def open_executor(kind: str, jobs: int, scheduler: str | None = None) -> Iterator[tuple[cf.Executor, Callable[[], cf.Executor] | None]]:
    """(executor, solo-executor factory or None) for ``kind``."""
    if kind == "local":
        pool = process_pool(jobs)
        try:
            yield pool, (lambda: process_pool(1))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if kind != "dask":
        raise KeyscanError(f"--executor: unknown executor '{kind}' (one of {', '.join(EXECUTORS)})")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise KeyscanError("--executor dask needs dask.distributed: pip install 'keyscan[dask]'") from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise KeyscanError(f"--scheduler: cannot reach the dask scheduler at {scheduler}: {exc}") from None
    try:
        with client.get_executor(pure=False) as executor:
            yield executor, None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
