"""Group commit: many requests' small write transactions committed as one.

Intake endpoints (a customer's survey answers, a complaint from a capturing system) each
write a few rows. Written one transaction per request, the server spends most of its time
waiting for the database — statement round trips and one WAL flush (fsync) per commit —
and a thread per waiting request costs more than the work. A :class:`GroupCommit` runs one
writer thread per process: requests hand their item over and wait; the writer takes every
item queued so far (up to ``max_batch``), writes them in ONE transaction with set-based
statements, commits once, and answers each request with its own result. Under light load a
batch holds one item and nothing is delayed; under heavy load batches grow by themselves
(no timer), which is what keeps latency flat.

Guarantees kept per item: an answer is given only after its transaction has committed
(nothing acknowledged is lost); when a batch fails, its items are written again one by
one, so one bad item fails alone and the others are not lost or written twice (the batch
was rolled back as a whole). ``key`` splits a batch into transactions that must not be
mixed (e.g. the actor the audit log records).

    writer = GroupCommit(engine_sessionmaker, write_rows, name="survey")
    result = await writer.submit(item)          # from a request handler
    result = writer.submit_wait(item)           # from a thread
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

_IDLE_EXIT_S = 5.0  # an idle writer thread ends; the next item starts a new one


class GroupCommit(Generic[T, R]):
    """Batches items from many callers into single transactions written by one thread.

    ``write(session, items)`` must write all ``items`` in ``session`` (without committing)
    and return one result per item, in order. It may be called again with any subset of a
    failed batch, so it must not keep state between calls.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        write: Callable[[Session, Sequence[T]], list[R]],
        *,
        name: str,
        max_batch: int = 256,
        key: Callable[[T], Hashable] | None = None,
        lock_retries: int = 8,
    ) -> None:
        self._factory = factory
        self._write = write
        self._key = key
        self._max_batch = max_batch
        self._lock_retries = lock_retries
        self._queue: queue.SimpleQueue[tuple[T, Future[R]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None  # held by the writer thread while it runs
        self._start_lock = threading.Lock()
        self.name = name
        self.batches = 0  # committed transactions (for tests and benchmarks)
        self.items = 0

    # -------------------------------------------------------------------- callers

    def submit_future(self, item: T) -> Future[R]:
        """Queue ``item``; the future resolves once its transaction has committed."""
        fut: Future[R] = Future()
        self._queue.put((item, fut))
        self._ensure_thread()
        return fut

    async def submit(self, item: T) -> R:
        """Queue ``item`` and wait (without blocking the event loop) for its result."""
        return await asyncio.wrap_future(self.submit_future(item))

    def submit_wait(self, item: T, timeout: float | None = 60.0) -> R:
        """Queue ``item`` and block this thread until its result is in."""
        return self.submit_future(item).result(timeout)

    # --------------------------------------------------------------------- writer

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"group-commit-{self.name}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        # While busy, the writer keeps one connection: checking one out of the pool per
        # batch costs a liveness ping, a round trip as dear as a statement.
        self._conn = None
        try:
            self._loop()
        finally:
            if self._conn is not None:
                self._conn.close()

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=_IDLE_EXIT_S)
            except queue.Empty:
                with self._start_lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for group in self._groups(batch):
                self._commit_group(group)

    def _groups(self, batch: list[tuple[T, Future[R]]]) -> list[list[tuple[T, Future[R]]]]:
        if self._key is None:
            return [batch]
        groups: dict[Hashable, list[tuple[T, Future[R]]]] = {}
        for entry in batch:
            groups.setdefault(self._key(entry[0]), []).append(entry)
        return list(groups.values())

    def _commit_group(self, group: list[tuple[T, Future[R]]]) -> None:
        live = [(item, fut) for item, fut in group if fut.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._transaction([item for item, _ in live])
        except Exception as exc:
            if len(live) == 1:
                live[0][1].set_exception(exc)
                return
            log.warning("group commit %s: batch of %d failed; one by one", self.name, len(live))
            for item, fut in live:
                try:
                    fut.set_result(self._transaction([item])[0])
                except Exception as exc:
                    fut.set_exception(exc)
            return
        for (_, fut), result in zip(live, results, strict=True):
            fut.set_result(result)

    def _session(self) -> Session:
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._factory.kw["bind"].connect()
        return self._factory(bind=self._conn)

    def _transaction(self, items: list[T]) -> list[R]:
        for attempt in range(self._lock_retries):
            with self._session() as session:
                try:
                    results = self._write(session, items)
                    if len(results) != len(items):
                        raise RuntimeError(
                            f"group commit {self.name}: {len(results)} results for {len(items)} items"
                        )
                    session.commit()
                except OperationalError as exc:
                    session.rollback()
                    # SQLite: another process holds the write lock past the busy timeout.
                    if "locked" not in str(exc).lower() or attempt == self._lock_retries - 1:
                        raise
                    time.sleep(0.02 * (attempt + 1))
                    continue
                except BaseException:
                    session.rollback()
                    raise
            self.batches += 1
            self.items += len(items)
            return results
        raise AssertionError("unreachable")
