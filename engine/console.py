"""Render engine events in a terminal: tqdm bars for long stages, one line per notice."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm

from engine.events import (
    CancelToken,
    Event,
    FileDone,
    FileFailed,
    FileSkipped,
    Finished,
    Notice,
    Progress,
)

# Stages quicker than this many units are not worth a bar (e.g. "load model" 0/1 -> 1/1).
MIN_UNITS_FOR_BAR = 2


class ConsoleRenderer:
    """Consumes a job's events, draws progress, and returns the job's final result."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self._bars: dict[str, tqdm] = {}

    def _bar(self, event: Progress) -> tqdm | None:
        if self.quiet or event.total < MIN_UNITS_FOR_BAR:
            return None
        bar = self._bars.get(event.stage)
        if bar is None or bar.total != event.total:
            if bar is not None:
                bar.close()
            # The batch bar stays on top; per-image bars come and go beneath it.
            bar = tqdm(
                total=event.total,
                desc=event.stage,
                file=self.stream,
                leave=event.stage == "batch",
                position=0 if event.stage == "batch" else 1,
                dynamic_ncols=True,
            )
            self._bars[event.stage] = bar
        return bar

    def say(self, message: str) -> None:
        if self._bars:
            tqdm.write(message, file=self.stream)
        else:
            print(message, file=self.stream)

    def consume(self, events: Iterator[Event]) -> Any:
        result = None
        try:
            for event in events:
                result = self._handle(event, result)
        finally:
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()
        return result

    def _handle(self, event: Event, result: Any) -> Any:
        if isinstance(event, Progress):
            bar = self._bar(event)
            if bar is not None:
                bar.n = event.done
                bar.set_postfix_str(event.message, refresh=False)
                bar.refresh()
        elif isinstance(event, Notice):
            if not self.quiet:
                self.say(event.message)
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
