"""Long steps run in a background thread, one at a time, while a page polls their progress.

One action at a time on the ledger: a second button pressed while a step runs is refused with
a message instead of queueing (the clerk sees what is running and waits for it). The CLI may
run at the same time: the ledger's own transactions keep that safe.
"""
from __future__ import annotations

import itertools
import logging
import threading
import traceback
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from minshi_xls import MinshiError, clock

log = logging.getLogger(__name__)


@dataclass
class Job:
    id: int
    label: str
    period: str
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    item: str = ""
    lines: List[str] = field(default_factory=list)
    error: str = ""
    back: str = ""  # the page the clerk came from (the month page when empty)
    started: str = field(default_factory=clock.now)
    finished: str = ""

    def progress(self, done: int, total: int, item: Optional[str] = None) -> None:
        """The library's ``progress(done, total, item)`` callback."""
        self.done, self.total, self.item = done, total, str(item or "")


class Busy(Exception):
    """Another step is running."""

    def __init__(self, job: Job):
        super().__init__(job.label)
        self.job = job


class Jobs:
    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._threads: Dict[int, threading.Thread] = {}
        self.jobs: Dict[int, Job] = {}
        self.current: Optional[Job] = None

    def start(self, label: str, period: str, fn: Callable[[Callable], List[str]],
              back: str = "") -> Job:
        """Run ``fn(progress)`` in a thread; :class:`Busy` when a step is already running."""
        if not self._lock.acquire(blocking=False):
            raise Busy(self.current)
        job = Job(next(self._ids), label, period, back=back)
        self.jobs[job.id] = self.current = job
        t = threading.Thread(target=self._run, args=(job, fn), name=f"minshi-{job.id}",
                             daemon=True)
        self._threads[job.id] = t
        t.start()
        return job

    def _run(self, job: Job, fn) -> None:
        try:
            job.lines = list(fn(job.progress))
            job.state = "done"
        except MinshiError as e:
            job.error, job.state = str(e), "failed"
        except Exception as e:  # noqa: BLE001 - the clerk gets a message, the log the trace
            log.error("step %s failed:\n%s", job.label, traceback.format_exc())
            job.error, job.state = f"内部错误：{type(e).__name__}: {e}", "failed"
        finally:
            job.finished = clock.now()
            self.current = None
            self._lock.release()

    def wait(self, job_id: int, timeout: float = 300) -> Job:
        """Block until a job has finished (tests; the pages poll instead)."""
        t = self._threads.get(job_id)
        if t:
            t.join(timeout)
        return self.jobs[job_id]
