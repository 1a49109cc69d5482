#!/bin/sh
# Adds MFAGAN Studio to this user's application menu (no root needed). Run it from the unpacked
# folder, again after moving the folder; remove with --uninstall.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
share="${XDG_DATA_HOME:-$HOME/.local/share}"
entry="$share/applications/mfagan-studio.desktop"
icon="$share/icons/hicolor/256x256/apps/mfagan-studio.png"
if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$entry" "$icon"
    echo "removed $entry"
    exit 0
fi
mkdir -p "$(dirname "$entry")" "$(dirname "$icon")"
cp "$here/_internal/resources/icons/mfagan-studio.png" "$icon"
# The menu needs the executable's absolute path (the folder is not on PATH).
sed "s|^Exec=mfagan-studio|Exec=\"$here/mfagan-studio\"|" "$here/mfagan-studio.desktop" >"$entry"
echo "installed $entry"
