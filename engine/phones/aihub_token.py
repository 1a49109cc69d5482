"""The AI Hub token, kept where qai-hub itself reads it, readable only by the user.

``~/.qai_hub/client.ini`` (or ``$QAIHUB_CLIENT_INI``), section ``[api]``, key ``api_token``:
the file ``qai-hub configure`` writes. We write it ourselves because ``configure`` prints the
whole file, token included. The token is never printed, logged or taken from argv, and no
error names any part of the file (a configparser message quotes the offending line).

qai-hub reads the file with ``configparser.ConfigParser`` (basic interpolation), where a
``%`` must be written ``%%``. We read and write it raw (no interpolation: every value stays
as qai-hub wrote it) and escape the token ourselves, so any printable token is stored and
qai-hub reads back exactly the token that was given.
"""

from __future__ import annotations

import configparser
import io
import os
import re
from pathlib import Path

from engine.errors import UsageError

LOGIN_HINT = "run 'mfagan aihub login' with the API token from your AI Hub account settings"


def config_path() -> Path:
    """qai-hub's configuration file: ``$QAIHUB_CLIENT_INI`` or ``~/.qai_hub/client.ini``."""
    return Path(os.environ.get("QAIHUB_CLIENT_INI", "~/.qai_hub/client.ini")).expanduser()


def stored_token() -> str:
    """The token qai-hub will send ('' when none is stored); UsageError, quoting nothing of
    the file, when qai-hub could not read it."""
    path = config_path()
    parser = _read(path, configparser.ConfigParser())  # qai-hub's own reader
    try:
        return parser.get("api", "api_token", fallback="").strip()
    except configparser.Error:
        raise UsageError(
            f"qai-hub cannot read the token in {path} (a '%' not written as '%%'); {LOGIN_HINT}"
        ) from None


def stored_api_url() -> str:
    """The AI Hub server qai-hub talks to (its default when the file names none)."""
    from qai_hub.public_rest_api import DEFAULT_HUB_API_URL

    parser = _read(config_path(), configparser.RawConfigParser())
    return parser.get("api", "api_url", fallback="").strip() or DEFAULT_HUB_API_URL


def blank_token(text: str) -> str:
    """A message a server or library wrote, with the token blanked should it quote it."""
    try:
        token = stored_token()
    except UsageError:
        return text
    return text.replace(token, "<token>") if token else text


def token_configured() -> bool:
    try:
        return bool(stored_token())
    except UsageError:
        return False


def _read(path: Path, parser: configparser.RawConfigParser) -> configparser.RawConfigParser:
    """``path`` parsed into ``parser`` (empty when the file is missing)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return parser
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"cannot read {path} ({reason})") from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        raise UsageError(
            f"{path} is not a configuration file qai-hub can read; move it aside and "
            "run 'mfagan aihub login' again"
        ) from None
    return parser


def store_token(token: str) -> Path:
    """Write the token into qai-hub's configuration file (mode 0600); returns its path.

    Any printable ASCII token without spaces is stored. Other settings already in the file
    (API URL, default project) are kept as they are.
    """
    token = token.strip()
    if not re.fullmatch(r"[!-~]+", token):
        raise UsageError(
            "that is not an AI Hub API token (empty, or it holds spaces or characters other "
            "than printable ASCII)"
        )
    from qai_hub.public_rest_api import DEFAULT_HUB_API_URL, DEFAULT_HUB_WEB_URL

    path = config_path()
    parser = _read(path, configparser.RawConfigParser())
    if not parser.has_section("api"):
        parser.add_section("api")
    api = parser["api"]
    api.setdefault("api_url", DEFAULT_HUB_API_URL)
    api.setdefault("web_url", DEFAULT_HUB_WEB_URL)
    api.setdefault("verbose", "False")
    api["api_token"] = token.replace("%", "%%")  # qai-hub's interpolation reads '%%' as '%'
    text = io.StringIO()
    parser.write(text)
    try:
        _write_private(path, text.getvalue())
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(f"cannot write {path} ({reason})") from None
    return path


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created 0600 from the start (umask cannot widen it), then renamed over the old file.
    temp = path.with_name(f".{path.name}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
