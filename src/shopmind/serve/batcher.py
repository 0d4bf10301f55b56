"""Dynamic batching of recommendation requests.

The pipeline is batch-first: scoring 30 users costs little more than scoring one, because
the fixed costs (Polars plans, the ranker call, sparse products) are paid once. A request
hands its history to :class:`RecommendBatcher` and awaits a future; one thread takes every
request queued so far, groups those with the same model, list length and rules, and runs
each group as one pipeline call. At low load a batch is one request (no added wait); under
load batches grow by themselves.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field

from shopmind.recommend.pipeline import Recommendation
from shopmind.recommend.rules import BusinessRules
from shopmind.serve.history import History
from shopmind.serve.model import ServedModel

logger = logging.getLogger(__name__)
MAX_BATCH = 64


@dataclass
class _Request:
    model: ServedModel
    history: History
    k: int
    rules: BusinessRules
    done: Future[list[Recommendation]] = field(default_factory=Future)

    def group(self) -> tuple[int, int, str]:
        return id(self.model), self.k, repr(self.rules)


class RecommendBatcher:
    """A thread that runs queued recommendation requests in batches."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="shopmind-recommend",
                                        daemon=True)
        self.batches = 0
        self.requests = 0
        self._thread.start()

    def submit(self, model: ServedModel, history: History, k: int, rules: BusinessRules
               ) -> Future[list[Recommendation]]:
        request = _Request(model, history, k, rules)
        self._queue.put(request)
        return request.done

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._serve(batch)
            if stop:
                return

    def _serve(self, batch: list[_Request]) -> None:
        groups: dict[tuple[int, int, str], list[_Request]] = defaultdict(list)
        for request in batch:
            groups[request.group()].append(request)
        for group in groups.values():
            head = group[0]
            try:
                lists = head.model.recommend([r.history for r in group], head.k, head.rules)
            except Exception as exc:
                logger.error("a recommendation batch failed: %s", type(exc).__name__)
                for request in group:
                    request.done.set_exception(exc)
                continue
            self.batches += 1
            self.requests += len(group)
            for request, recs in zip(group, lists, strict=True):
                request.done.set_result(recs)
