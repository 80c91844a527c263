"""Adaptive batching: predictions that arrive while the model is busy share one model call.

A scikit-learn call costs nearly as much for one row as for dozens (the light pipeline: 347 us for
one row, 354 us for eight), so a server that calls the model once per request pays that fixed
cost again and again under load. Here every request thread hands its validated rows to one
dispatcher thread per process and waits for its own rows' answer; the dispatcher stacks what is
waiting into one call:

- a batch starts with the first request waiting; the clock starts with it, and the batch closes
  when it holds ``max_batch_size`` rows or ``max_wait_ms`` after that request arrived (0: take
  what is already waiting and go, so a lone request waits for nothing);
- a request is never split: one larger than ``max_batch_size`` rows is a batch of its own;
- the queue holds at most ``max_queue`` requests; beyond that a request is refused at once
  (``Overloaded``, the contract's 503 with Retry-After) instead of waiting in unbounded memory;
- just before the call, a request whose client went away (``alive`` says so) or whose waiter gave
  up is dropped, and costs no model time (its thread gets ``Dropped``: the contract's 503, which
  no one reads, and no traceback in the log);
- ``close`` (at the process's exit) refuses new requests (``Closed``) and answers every request
  already queued before the dispatcher stops.

It needs request threads: under gunicorn's sync worker a process holds one request at a time, so
nothing ever waits beside it; gunicorn's gthread worker (``GUNICORN_WORKER_CLASS=gthread``,
``GUNICORN_THREADS`` at least ``max_batch_size``) serves one request per thread. No web framework
is imported here; each app passes its rows and, from the WSGI environ, how to tell whether its
client is still connected (``contract.client_alive``).

A row's answer must not depend on its neighbours: ``Model.predict_proba`` computes every row the
same way whatever the batch (model/runtime.py), so batching changes no byte of any answer.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any

import numpy as np

Alive = Callable[[], bool]
# How long a request thread waits for its answer before it gives up: a dispatcher that stopped
# answering is a bug, and gunicorn would kill the worker at its own timeout (30 s) anyway.
ANSWER_TIMEOUT_S = 30.0
DEFAULT_MAX_QUEUE = 256


# What a refused request is told to wait before it tries again (the Retry-After header).
RETRY_AFTER_S = 1


class Overloaded(RuntimeError):
    """More requests are waiting than the queue holds: the request is refused, not queued."""


class Closed(Overloaded):
    """The batcher is shutting down and takes no new request."""


class Dropped(Overloaded):
    """The request got no model call: its client went away, or no answer came in time."""


@dataclass(frozen=True)
class BatchSettings:
    """How requests are stacked: rows per call, the wait of a batch's first request, the queue."""

    max_batch_size: int  # rows in one model call; below 2, batching is off
    max_wait_ms: float = 0.0
    max_queue: int = DEFAULT_MAX_QUEUE

    def __post_init__(self) -> None:
        if self.max_batch_size < 0 or self.max_wait_ms < 0 or self.max_queue < 1:
            raise ValueError(
                "batching needs max_batch_size >= 0, max_wait_ms >= 0 and max_queue >= 1, not "
                f"{self.max_batch_size}, {self.max_wait_ms}, {self.max_queue}"
            )

    @property
    def enabled(self) -> bool:
        """Tell whether requests are stacked at all."""
        return self.max_batch_size >= 2

    @classmethod
    def parse(cls, max_batch_size: object, max_wait_ms: object, max_queue: object) -> BatchSettings:
        """Read the three settings as an app's configuration holds them (numbers or strings)."""
        try:
            return cls(int(str(max_batch_size)), float(str(max_wait_ms)), int(str(max_queue)))
        except ValueError as exc:
            raise ValueError(f"invalid batching setting: {exc}") from None


@dataclass
class _Request:
    X: np.ndarray
    alive: Alive | None
    arrived: float
    answer: Future[np.ndarray]


_STOP = object()


class Batcher:
    """Stack the rows of concurrent requests into one call of ``predict``."""

    def __init__(
        self, predict: Callable[[np.ndarray], np.ndarray], settings: BatchSettings
    ) -> None:
        self._predict = predict
        self.settings = settings
        self._wait_s = settings.max_wait_ms / 1000
        self._lock = threading.Lock()
        self._pid = 0
        self._closed = False
        self._queue: queue.Queue[Any] = queue.Queue(settings.max_queue)
        self._thread: threading.Thread | None = None
        # What the dispatcher did, for tests and the benchmark: calls, rows predicted, dropped.
        self.calls = self.rows = self.dropped = 0

    def predict_proba(self, X: np.ndarray, alive: Alive | None = None) -> np.ndarray:
        """Return the class probabilities of ``X``'s rows, predicted in a batch with others."""
        answer = self.submit(X, alive)
        try:
            return answer.result(ANSWER_TIMEOUT_S)
        except CancelledError:
            raise Dropped("the client went away before the model call") from None
        except TimeoutError:
            answer.cancel()
            raise Dropped(f"no answer within {ANSWER_TIMEOUT_S:g} s") from None

    def submit(self, X: np.ndarray, alive: Alive | None = None) -> Future[np.ndarray]:
        """Queue ``X``'s rows; return the future of their probabilities."""
        request = _Request(X, alive, time.monotonic(), Future())
        # Under the lock: a request queued after close() put the stop mark would never be
        # answered.
        with self._lock:
            if self._closed:
                raise Closed("the server is shutting down")
            if self._pid != os.getpid():
                self._start()
            try:
                self._queue.put_nowait(request)
            except queue.Full:
                waiting = self.settings.max_queue
                raise Overloaded(f"{waiting} requests are waiting already") from None
        return request.answer

    def _start(self) -> None:
        # Threads do not survive fork: a worker forked from a master that built the app starts
        # its own dispatcher, on its first request, with a queue of its own.
        self._pid = os.getpid()
        self._queue = queue.Queue(self.settings.max_queue)
        self._thread = threading.Thread(target=self._dispatch, name="batcher", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def close(self, timeout_s: float = ANSWER_TIMEOUT_S) -> None:
        """Refuse new requests, answer every queued one, then stop the dispatcher."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread if self._pid == os.getpid() else None
        if thread is not None:
            self._queue.put(_STOP, timeout=timeout_s)
            thread.join(timeout_s)

    def _dispatch(self) -> None:
        carried: _Request | None = None
        while True:
            first = carried if carried is not None else self._queue.get()
            if first is _STOP:
                return
            batch, carried, stop = self._gather(first)
            self._call(batch)
            if stop:
                return

    def _gather(self, first: _Request) -> tuple[list[_Request], _Request | None, bool]:
        """Return a batch starting with ``first``, the request that did not fit, and whether
        the stop mark was met."""
        batch, rows = [first], len(first.X)
        deadline = first.arrived + self._wait_s
        while rows < self.settings.max_batch_size:
            left = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, None, True
            if rows + len(item.X) > self.settings.max_batch_size:
                return batch, item, False
            batch.append(item)
            rows += len(item.X)
        return batch, None, False

    def _call(self, batch: list[_Request]) -> None:
        """Predict the batch's wanted rows in one call and answer each request its own."""
        wanted = [request for request in batch if self._wanted(request)]
        self.dropped += len(batch) - len(wanted)
        if not wanted:
            return
        try:
            X = wanted[0].X if len(wanted) == 1 else np.concatenate([r.X for r in wanted])
            proba = self._predict(X)
        except BaseException as exc:  # every waiter gets the error; the dispatcher goes on
            for request in wanted:
                request.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.calls += 1
        self.rows += len(X)
        start = 0
        for request in wanted:
            end = start + len(request.X)
            request.answer.set_result(proba[start:end])
            start = end

    @staticmethod
    def _wanted(request: _Request) -> bool:
        """Tell whether a request still wants its answer; mark it running if so."""
        if request.alive is not None and not request.alive():
            request.answer.cancel()
            return False
        # False when its waiter gave up (cancelled) already.
        return request.answer.set_running_or_notify_cancel()


__all__ = ["RETRY_AFTER_S", "BatchSettings", "Batcher", "Closed", "Dropped", "Overloaded"]
