"""Render engine events in a terminal: live progress bars, one line per notice.

rich rather than tqdm because its bars refresh on a timer: one large tile of the teacher can
take a minute, and the elapsed time must keep moving while nothing else does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

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

# Qualified (events.Progress): rich's Progress is drawn here too.
from engine import events
from engine.errors import printable
from engine.files import remove_in_flight_temporaries

# The line each file event of a batch prints (none when quiet).
_FILE_LINES: dict[type, Callable[[Any], str]] = {
    events.FileFailed: lambda event: f"failed: {event.path}: {event.reason}",
    events.FileSkipped: lambda event: f"skipped: {event.path} ({event.reason}: {event.output})",
    events.FileDone: lambda event: f"wrote {event.output} ({event.seconds:.1f} s)",
}


class ConsoleRenderer:
    """Consumes a job's events, draws progress, and returns the job's final result.

    ``quiet``: no bars and no notices but important ones (failures). ``silent``: nothing at
    all, for the ranks of a multi-process run other than the one that speaks.
    """

    def __init__(
        self, console: Console | None = None, *, quiet: bool = False, silent: bool = False
    ) -> None:
        self.console = console if console is not None else Console(stderr=True, quiet=silent)
        self.quiet = quiet or silent
        self.silent = silent
        self._progress: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}

    def say(self, message: str) -> None:
        target = self._progress.console if self._progress is not None else self.console
        target.print(message, markup=False, highlight=False, soft_wrap=True)

    def consume(self, stream: Iterator[events.Event]) -> Any:
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
                for event in stream:
                    result = self._handle(event, result)
        finally:
            self._progress = None
            self._tasks.clear()
        return result

    def _update(self, event: events.Progress) -> None:
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

    def _handle(self, event: events.Event, result: Any) -> Any:
        if isinstance(event, events.Progress):
            self._update(event)
        elif isinstance(event, events.Notice):
            if not self.quiet or (event.important and not self.silent):
                self.say(event.message)
        elif isinstance(event, events.FileStarted):
            if not self.quiet and "batch" in self._tasks and self._progress is not None:
                self._progress.update(self._tasks["batch"], note=event.path.name)
        elif isinstance(event, events.Finished):
            return event.result
        elif type(event) in _FILE_LINES and not self.quiet:
            self.say(printable(_FILE_LINES[type(event)](event)))
        return result


EXIT_CANCELLED = 130
CANCELLED = "cancelled; no partial files were left"


_outcome: list[int] = []  # the exit code, once the command has ended and said so
# The output a command publishes, and what was at its path before (None: nothing).
_watched: list[tuple[Path, tuple[int, int] | None]] = []


def settle(code: int | None) -> None:
    """Record that the command has ended with ``code`` (None: it starts): a Ctrl-C after
    that only hurries the exit along, with that code and no second line."""
    _outcome[:] = [] if code is None else [code]
    if code is None:
        _watched.clear()


def watch_output(output: Path) -> None:
    """``output`` is what the command writes: a cancel that ends it at once after the file
    was published says it was kept (``kept_line``) rather than that nothing is left."""
    _watched[:] = [(Path(output), _identity(output))]


def published_output() -> Path | None:
    """The watched output when a new file has been published there since, else None."""
    for output, before in _watched:
        now = _identity(output)
        if now is not None and now != before:
            return output
    return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def end_at_once() -> NoReturn:
    """Leave now with exit 130 and the same line as a clean cancel.

    Raising KeyboardInterrupt instead would unwind through whatever is running: a torch
    layer prints a traceback, and an onnxruntime run still busy in its worker thread at
    interpreter exit aborts the process ("terminate called without an active exception",
    exit 134). ``os._exit`` runs no destructors; the temporaries of writes in progress
    (files and the folders bundles are built in) are removed first, and the line says so
    only if none is left; once the watched output is published, it says that was kept.
    """
    if _outcome:
        os._exit(_outcome[0])
    left = remove_in_flight_temporaries()
    kept = published_output()
    if kept is not None:
        _write_line(kept_line(kept), show_cursor=True)
    elif left:
        line = f"cancelled; could not remove the partial file {printable(left[0])}"
        _write_line(line, show_cursor=True)
    else:
        _write_line(CANCELLED, show_cursor=True)
    os._exit(EXIT_CANCELLED)


def kept_line(output: object) -> str:
    """What a cancel that came after the output was complete (renamed into place) says."""
    return f"cancelled; the output was already complete and was kept: {printable(output)}"


def _write_line(message: str, *, show_cursor: bool = False) -> None:
    """One line on stderr from a signal handler: a plain write, no rich (the handler may
    interrupt rich itself, even while it imports a module)."""
    prefix = ""
    if sys.stderr.isatty():
        # A live progress bar hides the cursor and leaves the line half drawn.
        prefix = "\r\x1b[2K" + ("\x1b[?25h" if show_cursor else "")
    os.write(2, f"{prefix}{message}\n".encode())


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def ctrl_c_ends(*, keep: bool = False) -> Iterator[None]:
    """While a command starts or ends (no job to stop cleanly), Ctrl-C ends it at once.

    ``keep``: for a process about to exit with its outcome decided, ignore Ctrl-C
    afterwards. Python resets its own handlers while it shuts down (which takes a while
    with torch and onnxruntime loaded), so a late Ctrl-C would kill it by SIGINT instead
    of letting it exit with its code; an ignored signal stays ignored.
    """
    if not _on_main_thread():
        yield
        return
    previous = _handle_both(lambda signum, frame: end_at_once())
    try:
        yield
    finally:
        _restore(previous, ignore=keep)


@contextmanager
def ctrl_c_cancels(cancel: events.CancelToken, renderer: ConsoleRenderer) -> Iterator[None]:
    """First Ctrl-C asks the job to stop cleanly at its next check; any further one ends
    the process at once (``end_at_once``): exit 130 and the same line either way."""

    def handler(signum: int, frame: object) -> None:
        if cancel.cancelled or signum != signal.SIGINT:
            end_at_once()
        cancel.cancel()
        if not renderer.quiet:
            _write_line("cancelling... (Ctrl-C again to stop at once)")

    if not _on_main_thread():
        yield
        return
    previous = _handle_both(handler)
    try:
        yield
    finally:
        _restore(previous)


def run_job(
    start: Callable[[events.CancelToken], Iterator[events.Event]],
    *,
    quiet: bool = False,
    silent: bool = False,
    cancel: events.CancelToken | None = None,
) -> Any:
    """Run one engine job as every command does: its events drawn by a ``ConsoleRenderer``
    (``quiet``, ``silent``), Ctrl-C a clean cancel (``ctrl_c_cancels``); returns its result.

    ``start(cancel)`` builds the job inside the Ctrl-C handling, where a generator job's
    first step runs anyway. ``cancel``: a token the caller reads afterwards or hands on.
    """
    cancel = events.CancelToken() if cancel is None else cancel
    renderer = ConsoleRenderer(quiet=quiet, silent=silent)
    with ctrl_c_cancels(cancel, renderer):
        return renderer.consume(start(cancel))


# SIGTERM (a logout, `kill`, a service manager) is a cancel too, but its sender usually
# follows with SIGKILL after a few seconds, less than a clean stop of one teacher tile may
# take: it ends at once, as a second Ctrl-C does (temporaries removed, exit 130).
_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


def _handle_both(handler: Any) -> list[Any]:
    return [signal.signal(signum, handler) for signum in _SIGNALS]


def _restore(previous: list[Any], *, ignore: bool = False) -> None:
    for signum, handler in zip(_SIGNALS, previous, strict=True):
        signal.signal(signum, signal.SIG_IGN if ignore else handler)


class WatchedStream:
    """A text stream (``sys.stdout``) that remembers the error of a write that failed there:
    a full disk (``> /dev/full``) or a reader that went away (``| head``), told apart from
    every other OSError a command may raise."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as error:
            self.error = error
            raise

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as error:
            self.error = error
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def discard_stdout() -> None:
    """Point file descriptor 1 at the null device, so that the interpreter's last flush of
    what is still buffered for a stdout that failed succeeds silently (no "Exception
    ignored" message, no exit 120)."""
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else -1
    except (OSError, ValueError):
        return
    if fd < 0:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
