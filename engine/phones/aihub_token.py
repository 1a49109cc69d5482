"""The AI Hub token, kept where qai-hub itself reads it, readable only by the user.

``~/.qai_hub/client.ini`` (or ``$QAIHUB_CLIENT_INI``), section ``[api]``, key ``api_token``:
the file ``qai-hub configure`` writes. We write it ourselves because ``configure`` prints the
whole file, token included. The token is never printed, logged or taken from argv.
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


def token_configured() -> bool:
    parser = configparser.ConfigParser()
    try:
        parser.read(config_path(), encoding="utf-8")
    except (OSError, configparser.Error):
        return False
    return bool(parser.get("api", "api_token", fallback="").strip())


def store_token(token: str) -> Path:
    """Write the token into qai-hub's configuration file (mode 0600); returns its path.

    Other settings already in the file (API URL, default project) are kept.
    """
    token = token.strip()
    if not token or re.search(r"\s", token):
        raise UsageError("that is not an AI Hub API token (empty, or it contains spaces)")
    from qai_hub.public_rest_api import DEFAULT_HUB_API_URL, DEFAULT_HUB_WEB_URL

    path = config_path()
    parser = configparser.ConfigParser()
    parser.read(path, encoding="utf-8")  # a missing file reads as empty
    if not parser.has_section("api"):
        parser.add_section("api")
    api = parser["api"]
    api.setdefault("api_url", DEFAULT_HUB_API_URL)
    api.setdefault("web_url", DEFAULT_HUB_WEB_URL)
    api.setdefault("verbose", "False")
    api["api_token"] = token
    text = io.StringIO()
    parser.write(text)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created 0600 from the start (umask cannot widen it), then renamed over the old file.
    temp = path.with_name(f".{path.name}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text.getvalue())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
