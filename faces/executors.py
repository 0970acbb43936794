"""Where images are processed: inline, a local process pool (default: all cores) or a Dask cluster.

All three take (key, image bytes) pairs lazily and yield (key, ImageFaces) as each finishes,
keeping at most a few tasks per worker in flight, so memory stays flat however large the
collection: the client never holds more than that many images' bytes at once.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol

from postercensus.faces.pipeline import ImageFaces, process_image
from postercensus.faces.settings import FaceSettings

TASKS_PER_WORKER = 2
Job = tuple[Hashable, bytes]


class FaceExecutor(Protocol):
    description: str

    def run(self, jobs: Iterable[Job], settings: FaceSettings, describe: bool = True) -> Iterator[tuple[Hashable, ImageFaces]]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class InlineExecutor:
    """One image after another in this process (--workers 1): no start-up cost, easy to debug."""

    description = "1 process"

    def run(self, jobs: Iterable[Job], settings: FaceSettings, describe: bool = True) -> Iterator[tuple[Hashable, ImageFaces]]:
        for key, data in jobs:
            yield key, process_image(data, settings, describe)

    def close(self) -> None:
        pass


def _bounded(submit, jobs: Iterable[Job], limit: int, wait_some) -> Iterator[tuple[Hashable, object]]:
    """Keep at most `limit` futures in flight; yield (key, future) as they complete."""
    pending: dict[object, Hashable] = {}
    for key, data in jobs:
        pending[submit(data)] = key
        if len(pending) >= limit:
            for future in wait_some(list(pending)):
                yield pending.pop(future), future
    while pending:
        for future in wait_some(list(pending)):
            yield pending.pop(future), future


def one_thread_per_worker() -> None:
    """Run in each pool worker as it starts: OpenCV and TensorFlow (MTCNN) on one thread each
    (NumPy's BLAS: see ProcessPoolFaceExecutor).

    Parallelism comes from the worker processes; the libraries' own thread pools would
    oversubscribe the cores the workers share. TensorFlow reads its variables when it starts,
    which in a fresh spawned worker is later, when an MTCNN detector first runs.
    """
    import cv2

    cv2.setNumThreads(1)
    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"


BLAS_THREADS_VARIABLE = "OPENBLAS_NUM_THREADS"


class ProcessPoolFaceExecutor:
    """A local pool of worker processes (spawned: each loads the models once, then reuses them).

    The descriptor network's matrix products run on NumPy's OpenBLAS, which fixes its thread
    count when NumPy is imported: in a spawned worker that is before any initializer runs, so
    the workers get one BLAS thread from the environment they inherit, set while the pool
    lives (unless the user set it) and restored when it closes.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local processes"
        self._blas_threads_before = os.environ.get(BLAS_THREADS_VARIABLE)
        os.environ.setdefault(BLAS_THREADS_VARIABLE, "1")
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=one_thread_per_worker)

    def run(self, jobs: Iterable[Job], settings: FaceSettings, describe: bool = True) -> Iterator[tuple[Hashable, ImageFaces]]:
        def wait_some(futures: list[Future]) -> set[Future]:
            return wait(futures, return_when=FIRST_COMPLETED).done

        submit = lambda data: self._pool.submit(process_image, data, settings, describe)  # noqa: E731
        for key, future in _bounded(submit, jobs, self.workers * TASKS_PER_WORKER, wait_some):
            yield key, future.result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        if self._blas_threads_before is None:
            os.environ.pop(BLAS_THREADS_VARIABLE, None)


class DaskFaceExecutor:
    """A Dask distributed cluster: workers get image bytes, return plain results; the client writes."""

    def __init__(self, scheduler: str, connect_timeout: float = 10.0) -> None:
        from distributed import Client

        try:
            self._client = Client(scheduler, timeout=connect_timeout)
        except OSError as error:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {scheduler} ({error}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or leave out --scheduler"
            ) from error
        workers = len(self._client.scheduler_info().get("workers", {})) or 1
        threads = sum(self._client.nthreads().values()) or workers
        self.slots = threads
        self.description = f"Dask cluster at {scheduler} ({workers} workers, {threads} threads)"

    def run(self, jobs: Iterable[Job], settings: FaceSettings, describe: bool = True) -> Iterator[tuple[Hashable, ImageFaces]]:
        from distributed import wait as dask_wait

        def wait_some(futures: list) -> set:
            return dask_wait(futures, return_when="FIRST_COMPLETED").done

        submit = lambda data: self._client.submit(process_image, data, settings, describe, pure=False)  # noqa: E731
        for key, future in _bounded(submit, jobs, self.slots * TASKS_PER_WORKER, wait_some):
            yield key, future.result()
            future.release()

    def close(self) -> None:
        self._client.close()


def make_executor(workers: int | None, scheduler: str | None) -> FaceExecutor:
    """--scheduler wins; else --workers (default: every core; 1 runs inline)."""
    if scheduler:
        return DaskFaceExecutor(scheduler)
    count = workers or default_workers()
    return InlineExecutor() if count == 1 else ProcessPoolFaceExecutor(count)
