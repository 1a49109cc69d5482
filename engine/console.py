"""Render engine events in a terminal: live progress bars, one line per notice.

rich rather than tqdm because its bars refresh on a timer: one large tile of the teacher can
take a minute, and the elapsed time must keep moving while nothing else does.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgress,
)

from engine.events import (
    CancelToken,
    Event,
    FileDone,
    FileFailed,
    FileSkipped,
    FileStarted,
    Finished,
    Notice,
    Progress,
)


class ConsoleRenderer:
    """Consumes a job's events, draws progress, and returns the job's final result."""

    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.quiet = quiet
        self._progress: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}

    def say(self, message: str) -> None:
        target = self._progress.console if self._progress is not None else self.console
        target.print(message, markup=False, highlight=False, soft_wrap=True)

    def consume(self, events: Iterator[Event]) -> Any:
        result = None
        progress = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=self.console,
            disable=self.quiet or not self.console.is_terminal,
        )
        self._progress = progress
        try:
            with progress:
                for event in events:
                    result = self._handle(event, result)
        finally:
            self._progress = None
            self._tasks.clear()
        return result

    def _update(self, event: Progress) -> None:
        assert self._progress is not None
        task = self._tasks.get(event.stage)
        if task is None:
            task = self._progress.add_task(event.stage, total=event.total, note="")
            self._tasks[event.stage] = task
        self._progress.update(
            task, completed=event.done, total=event.total, note=event.message, visible=True
        )
        if event.done >= event.total and event.stage != "batch":
            # Per-image stages restart for the next image; the batch bar stays.
            self._progress.update(task, visible=False)
            self._progress.reset(task, visible=False)

    def _handle(self, event: Event, result: Any) -> Any:
        if isinstance(event, Progress):
            self._update(event)
        elif isinstance(event, Notice):
            if not self.quiet:
                self.say(event.message)
        elif isinstance(event, FileStarted):
            if not self.quiet and "batch" in self._tasks and self._progress is not None:
                self._progress.update(self._tasks["batch"], note=event.path.name)
        elif isinstance(event, FileFailed):
            if not self.quiet:
                self.say(f"failed: {event.path}: {event.reason}")
        elif isinstance(event, FileSkipped):
            if not self.quiet:
                self.say(f"skipped: {event.path} ({event.reason}: {event.output})")
        elif isinstance(event, FileDone):
            if not self.quiet:
                self.say(f"wrote {event.output} ({event.seconds:.1f} s)")
        elif isinstance(event, Finished):
            return event.result
        return result


@contextmanager
def ctrl_c_cancels(cancel: CancelToken, renderer: ConsoleRenderer) -> Iterator[None]:
    """First Ctrl-C asks the job to stop cleanly at its next check; a second one aborts."""

    def handler(signum: int, frame: object) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        renderer.say("cancelling... (Ctrl-C again to abort at once)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
