"""What each part of a built bundle costs on disk: the table in packaging/README.md.

    python packaging/sizes.py dist/mfagan-studio [--json]

Files are grouped by the package they belong to (the first folder under ``_internal``, with
wheel-vendored library folders such as ``numpy.libs`` counted with their package). Compiled
Python code lives inside each executable (PyInstaller's PYZ archive); when PyInstaller is
importable it is opened and its modules are added to their packages, so a package's row is
its whole cost. Whatever is left of the executables is the bootloader and run-time hooks.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# Rows of the table: package folders (or first module names) that make up each part.
PARTS = {
    "PyTorch (CPU)": ("torch", "torchgen", "functorch"),
    "Qt (PySide6)": ("PySide6", "shiboken6"),
    "onnxruntime": ("onnxruntime",),
    # openvino/ (its libs/ folder holds the CPU plugin, core and ONNX frontend), its
    # dist-info, its PYZ modules; the top-level libopenvino*.so are counted below.
    "OpenVINO": ("openvino",),
    "ONNX and export tools": ("onnx", "onnx_ir", "onnxscript", "qai_hub", "h5py", "ml_dtypes"),
    "AI Hub upload (boto)": ("botocore", "boto3", "s3transfer"),
    "TFLite export tools": (
        "jax",
        "jaxlib",
        "litert_torch",
        "litert_converter",
        "litert_lm_builder",
        "ai_edge_litert",
        "ai_edge_quantizer",
        "torchao",
        "xdsl",
    ),
    "numpy": ("numpy",),
    "matplotlib": ("matplotlib", "kiwisolver", "contourpy", "fontTools"),
    "Pillow and image codecs": ("PIL", "pillow", "imagecodecs", "tifffile"),
    "sympy and networkx (torch)": ("sympy", "mpmath", "networkx"),
    "spandrel and torchvision": ("spandrel", "torchvision"),
    "app code": ("engine", "desktop_app"),
    "resources (models, teacher, samples)": ("resources",),
    "Python runtime": ("python3", "base_library", "libpython3"),
}
SHARED_LIBRARIES = "shared libraries (Qt, image and system)"


def part_of(name: str) -> str:
    """The table row for a top-level folder, file or PYZ module name."""
    stem = name.split(".")[0].split("-")[0]
    for part, members in PARTS.items():
        if stem in members:
            return part
    if stem in sys.stdlib_module_names or stem.startswith("_"):
        return "Python runtime"
    if stem.startswith("libopenvino") and ".so" in name:
        return "OpenVINO"  # libopenvino.so.2641 beside openvino/ (a symlink into it today)
    if stem.startswith("lib") and ".so" in name:
        return SHARED_LIBRARIES
    return "other"


def folder_sizes(bundle: Path) -> Counter[str]:
    """Bytes per top-level name under the bundle's contents folder, and each executable."""
    sizes: Counter[str] = Counter()
    contents = bundle / "_internal"
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(contents if path.is_relative_to(contents) else bundle)
        key = relative.parts[0] if path.is_relative_to(contents) else f"executable:{path.name}"
        sizes[key] += path.stat().st_size
    return sizes


def pyz_sizes(executable: Path) -> Counter[str]:
    """Compressed bytes per top-level package in an executable's PYZ (empty if unreadable)."""
    try:
        from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader
        from PyInstaller.loader.pyimod01_archive import ArchiveReadError
    except ImportError:
        return Counter()
    import tempfile

    try:
        archive = CArchiveReader(str(executable))
        with tempfile.TemporaryDirectory() as scratch:
            pyz = Path(scratch) / "PYZ.pyz"
            pyz.write_bytes(archive.extract("PYZ.pyz"))
            reader = ZlibArchiveReader(str(pyz))
            sizes: Counter[str] = Counter()
            for name, (_kind, _offset, length) in reader.toc.items():
                sizes[name.split(".")[0]] += length
            return sizes
    except (ArchiveReadError, OSError, KeyError, ValueError):
        return Counter()  # not a PyInstaller executable (or another version's format)


def table(bundle: Path) -> list[tuple[str, int]]:
    """(part, bytes) rows, largest first; executables are split into their PYZ and the rest."""
    rows: Counter[str] = Counter()
    for key, size in folder_sizes(bundle).items():
        if key.startswith("executable:"):
            executable = bundle / key.split(":", 1)[1]
            code = pyz_sizes(executable)
            for module, length in code.items():
                rows[part_of(module)] += length
            rows["executables (bootloader, hooks)"] += size - sum(code.values())
        else:
            rows[part_of(key)] += size
    return rows.most_common()


def render(rows: Iterable[tuple[str, int]]) -> str:
    rows = list(rows)
    total = sum(size for _, size in rows)
    lines = ["| part | MB | share |", "| --- | ---: | ---: |"]
    lines += [f"| {part} | {size / 1e6:.1f} | {size / total:.0%} |" for part, size in rows]
    lines.append(f"| **total** | **{total / 1e6:.1f}** | |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: sizes.py BUNDLE_DIR [--json]")
    result = table(Path(sys.argv[1]))
    print(json.dumps(dict(result), indent=2) if "--json" in sys.argv else render(result))
