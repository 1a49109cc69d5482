"""``make package``: build the one-folder app with PyInstaller and archive it.

    python packaging/build.py [--skip-pyinstaller]

Writes into dist/:
  mfagan-studio/                          the app (run ./mfagan-studio or ./mfagan)
  mfagan-studio-VERSION-linux-x86_64.tar.gz and .sha256
  mfagan-studio-sizes.md                  what each part costs (packaging/sizes.py)
and prints how long each step took. ``--skip-pyinstaller`` re-runs only the steps after the
build (desktop entry, archive, sizes) on an existing dist/mfagan-studio.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
APP = DIST / "mfagan-studio"
LINUX_EXTRAS = ("mfagan-studio.desktop", "install-desktop-entry.sh")
# Symbol tables (not the dynamic symbols the loader uses) of torch's own libraries: ~90 MB.
# Not every library: strip breaks those auditwheel/patchelf rewrote (numpy's OpenBLAS).
STRIPPED = ("torch/lib/libtorch_cpu.so", "torch/lib/libtorch_python.so")


def run_pyinstaller() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(ROOT / "build" / "pyinstaller"),
            str(PACKAGING / "mfagan-studio.spec"),
        ],
        check=True,
        cwd=ROOT,
    )


def add_linux_extras() -> None:
    """The .desktop entry and its installer sit beside the executables."""
    for name in LINUX_EXTRAS:
        shutil.copy2(PACKAGING / name, APP / name)


def strip_torch() -> int:
    """Bytes saved by stripping STRIPPED (Linux, where binutils' strip is present)."""
    strip = shutil.which("strip")
    if strip is None or not sys.platform.startswith("linux"):
        return 0
    saved = 0
    for relative in STRIPPED:
        path = APP / "_internal" / relative
        before = path.stat().st_size
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
        saved += before - path.stat().st_size
    return saved


def archive_name() -> str:
    import engine

    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, "other")
    return f"mfagan-studio-{engine.__version__}-{system}-{platform.machine().lower()}.tar.gz"


def make_archive() -> Path:
    """tar.gz of the app folder (symlinks kept, owner reset) and its sha256 file."""
    target = DIST / archive_name()

    def reset_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    partial = target.with_name(target.name + ".part")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(APP, arcname=APP.name, filter=reset_owner)
    partial.replace(target)
    digest = hashlib.sha256()
    with target.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    Path(f"{target}.sha256").write_text(f"{digest.hexdigest()}  {target.name}\n", encoding="ascii")
    return target


def write_sizes() -> str:
    sys.path.insert(0, str(PACKAGING))
    from sizes import render, table

    text = render(table(APP))
    (DIST / "mfagan-studio-sizes.md").write_text(text + "\n", encoding="utf-8")
    return text


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pyinstaller", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    timings: list[tuple[str, float]] = []

    def step(name: str, action) -> object:
        start = time.perf_counter()
        result = action()
        timings.append((name, time.perf_counter() - start))
        return result

    if not args.skip_pyinstaller:
        step("pyinstaller", run_pyinstaller)
    if sys.platform.startswith("linux"):
        saved = step("strip torch", strip_torch)
        print(f"strip: {saved / 1e6:.1f} MB saved on {', '.join(STRIPPED)}")
        step("desktop entry", add_linux_extras)
    sizes = step("size table", write_sizes)
    archive = step("archive", make_archive)
    print(sizes)
    print(f"\n{APP.relative_to(ROOT)}: {folder_bytes(APP) / 1e6:.1f} MB on disk")
    print(f"{archive.relative_to(ROOT)}: {archive.stat().st_size / 1e6:.1f} MB")
    print(Path(f"{archive}.sha256").read_text(encoding="ascii").strip())
    for name, seconds in timings:
        print(f"{name:<14} {seconds:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
