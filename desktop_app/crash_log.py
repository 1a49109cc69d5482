"""The crash log: where an unhandled exception, a hard crash or a fatal Qt message leaves
its trace, so the app never vanishes without a word.

Installed once at start-up (``app.run``): ``sys.excepthook`` (PySide6 routes an exception
raised in a slot there), ``threading.excepthook``, ``faulthandler`` (a segfault or abort
writes its stack into the file) and a Qt message handler that keeps critical and fatal
messages. The file lives in platformdirs' user log folder (under ``XDG_STATE_HOME`` on
Linux); ``MFAGAN_LOG_DIR`` moves it. When it cannot be written the app still starts and the
entries go to stderr.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

import platformdirs
from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, Signal, qInstallMessageHandler

from engine.paths import APP_NAME

LOG_NAME = "crash.log"
MAX_BYTES = 1024 * 1024  # past this the file is moved to crash.log.1 and a new one begun
KEPT_QT_MESSAGES = (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)

QtHandler = Callable[[QtMsgType, QMessageLogContext, str], None]


def log_path() -> Path:
    override = os.environ.get("MFAGAN_LOG_DIR")
    folder = Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME))
    return folder / LOG_NAME


def crash_line(path: Path | None) -> str:
    """The one plain line the status bar shows after a crash was caught."""
    where = str(path) if path is not None else "the terminal (the log file cannot be written)"
    return f"Something went wrong; the details are in {where}"


class _Relay(QObject):
    """Carries the status line to the GUI thread from whichever thread crashed."""

    crashed = Signal(str)


class CrashLog:
    """The hooks, installed by ``install`` and put back as they were by ``uninstall``."""

    def __init__(self, path: Path | None = None) -> None:
        self.wanted = path if path is not None else log_path()
        self.path: Path | None = None  # None: the file could not be opened, stderr instead
        self._file: IO[str] | None = None
        self._relay = _Relay()
        self._previous: tuple[object, object, bool, QtHandler | None] | None = None
        self._logging: logging.Handler | None = None

    @property
    def crashed(self) -> Signal:
        return self._relay.crashed

    def install(self) -> None:
        self._open()
        self._previous = (
            sys.excepthook,
            threading.excepthook,
            faulthandler.is_enabled(),
            qInstallMessageHandler(self._qt_message),
        )
        sys.excepthook = self._python_exception
        threading.excepthook = self._thread_exception
        faulthandler.enable(file=self._file if self._file is not None else sys.__stderr__)
        if self._file is not None:
            # A job's error line says "details are in the log": its traceback is logged here.
            self._logging = logging.StreamHandler(self._file)
            self._logging.setLevel(logging.WARNING)
            self._logging.setFormatter(logging.Formatter("--- %(asctime)s %(name)s\n%(message)s"))
            logging.getLogger().addHandler(self._logging)

    def uninstall(self) -> None:
        if self._previous is None:
            return
        excepthook, thread_hook, fault_was_on, qt_handler = self._previous
        self._previous = None
        sys.excepthook = excepthook  # type: ignore[assignment]
        threading.excepthook = thread_hook  # type: ignore[assignment]
        qInstallMessageHandler(qt_handler)
        faulthandler.disable()
        if self._logging is not None:
            logging.getLogger().removeHandler(self._logging)
            self._logging = None
        if fault_was_on and sys.__stderr__ is not None:
            faulthandler.enable(file=sys.__stderr__)
        if self._file is not None:
            self._file.close()
            self._file = None

    # ---- the file ----------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self.wanted.parent.mkdir(parents=True, exist_ok=True)
            if self.wanted.is_file() and self.wanted.stat().st_size > MAX_BYTES:
                self.wanted.replace(self.wanted.with_name(LOG_NAME + ".1"))
            self._file = self.wanted.open("a", encoding="utf-8")
            self.path = self.wanted
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print(f"MFAGAN Studio: no crash log at {self.wanted} ({reason})", file=sys.stderr)

    def write(self, heading: str, body: str = "") -> None:
        entry = f"--- {datetime.now().isoformat(timespec='seconds')} {heading}\n{body}"
        if not entry.endswith("\n"):
            entry += "\n"
        if self._file is None:
            sys.stderr.write(entry)
            return
        try:
            self._file.write(entry)
            self._file.flush()
        except OSError:
            sys.stderr.write(entry)

    # ---- the hooks ---------------------------------------------------------------------

    def _python_exception(
        self,
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        self._caught("unhandled exception", kind, error, trace)

    def _thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        heading = f"unhandled exception in thread {name}"
        self._caught(heading, args.exc_type, args.exc_value, args.exc_traceback)

    def _caught(
        self,
        heading: str,
        kind: type[BaseException],
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        text = "".join(traceback.format_exception(kind, error, trace))
        self.write(heading, text)
        if self._file is not None:
            sys.stderr.write(text)  # a terminal still sees it, as with Python's own hooks
        self._relay.crashed.emit(crash_line(self.path))

    def _qt_message(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if kind in KEPT_QT_MESSAGES:
            where = f" ({context.file}:{context.line})" if context.file else ""
            self.write(f"Qt {kind.name}{where}", message)
        previous = self._previous[3] if self._previous is not None else None
        if previous is not None:
            previous(kind, context, message)
        elif kind not in KEPT_QT_MESSAGES or self._file is not None:
            sys.stderr.write(message + "\n")  # what Qt's own handler would have printed
