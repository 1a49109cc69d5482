"""Run engine jobs (generators of events) off the UI thread and hand their events back.

A ``Job`` is a QRunnable around a function ``make(cancel) -> Iterator[event]``. Its signals
live on a separate ``JobSignals`` QObject created on the UI thread, so Qt queues every
emission from the pool thread into the UI thread's event loop: widgets only ever see events
in slots, never from the worker. Exactly one of ``finished`` / ``failed`` / ``cancelled`` is
emitted, then ``ended``.

Errors become one readable line: the engine's own errors say what went wrong with which file
(their command-line hints said in the window's words, ``wording``); a file-system error the
engine let through names its file and the reason (a file in the way, a read-only disk);
anything unexpected is named by type and message. Both tracebacks go to the log (stderr)
for a bug report, never into the window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from desktop_app.wording import Hints, in_gui_words
from engine.errors import MfaganError
from engine.events import Cancelled, CancelToken, Finished
from engine.paths import why_unusable

log = logging.getLogger(__name__)

JobFactory = Callable[[CancelToken], Iterator[Any]]


class JobSignals(QObject):
    event = Signal(object)  # every event except Finished
    finished = Signal(object)  # Finished.result (None if the job ended without one)
    failed = Signal(str)  # a one-line, human-readable reason
    cancelled = Signal(str)
    ended = Signal()  # always last, whatever happened


def describe_error(error: BaseException, hints: Hints = ()) -> str:
    """One line a user can act on; never a traceback, never a command-line flag."""
    if isinstance(error, MfaganError):
        return in_gui_words(str(error), hints)
    if isinstance(error, MemoryError):
        return "not enough memory for this image, even at the smallest tile size"
    if isinstance(error, OSError) and error.filename is not None:
        return file_system_line(error)
    first = str(error).strip().splitlines()
    detail = f": {first[0]}" if first else ""
    return f"unexpected error ({type(error).__name__}{detail}); details are in the log"


def file_system_line(error: OSError) -> str:
    """ "<path>: cannot be used (<folder> is a file)", "... (read-only file system)": the
    path and the reason, without the errno and the exception's type."""
    path = Path(os.fsdecode(error.filename))
    return f"{path}: cannot be used ({why_unusable(path, error)})"


class Job(QRunnable):
    """One engine job; keep a reference until ``signals.ended`` (JobRunner does)."""

    def __init__(self, make: JobFactory, *, name: str, hints: Hints = ()) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.name, self.hints = name, hints
        self.cancel_token = CancelToken()
        self.signals = JobSignals()
        self._make = make

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def run(self) -> None:
        signals = self.signals
        try:
            result = None
            for event in self._make(self.cancel_token):
                if isinstance(event, Finished):
                    result = event.result
                else:
                    signals.event.emit(event)
            self.cancel_token.raise_if_cancelled()
            signals.finished.emit(result)
        except Cancelled as stop:
            signals.cancelled.emit(in_gui_words(str(stop), self.hints))
        except Exception as error:  # a worker must report, never die silently
            if not isinstance(error, MfaganError | MemoryError):
                log.exception("job %s failed", self.name)
            signals.failed.emit(describe_error(error, self.hints))
        finally:
            signals.ended.emit()


class JobRunner(QObject):
    """Starts jobs on a thread pool and keeps them alive until they have ended.

    The handlers are connected before the job starts, so no event is missed; pass bound
    methods of QObjects that live on the UI thread (widgets), so Qt queues each call there.
    """

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool if pool is not None else QThreadPool.globalInstance()
        self._running: dict[JobSignals, Job] = {}

    def start(
        self,
        make: JobFactory,
        *,
        name: str,
        on_event: Callable[[Any], None] | None = None,
        on_finished: Callable[[Any], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
        on_cancelled: Callable[[str], None] | None = None,
        on_ended: Callable[[], None] | None = None,
        hints: Hints = (),
    ) -> Job:
        """``hints``: what the engine's command-line hints mean on the page starting the job
        (``wording.in_gui_words``), before the window's general ones."""
        job = Job(make, name=name, hints=hints)
        signals = job.signals
        for signal, handler in (
            (signals.event, on_event),
            (signals.finished, on_finished),
            (signals.failed, on_failed),
            (signals.cancelled, on_cancelled),
            (signals.ended, on_ended),
        ):
            if handler is not None:
                signal.connect(handler)
        self._running[signals] = job
        signals.ended.connect(self._forget)
        self._pool.start(job)
        return job

    @Slot()
    def _forget(self) -> None:
        self._running.pop(self.sender(), None)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def running_names(self) -> list[str]:
        """The names of the jobs running now, each once, the oldest first."""
        return list(dict.fromkeys(job.name for job in self._running.values()))

    def cancel_all(self) -> None:
        for job in list(self._running.values()):
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (used on quit, after cancel_all)."""
        return self._pool.waitForDone(msecs)
