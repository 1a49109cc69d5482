"""The per-part size table of a built bundle (packaging/sizes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def sizes(packaging_module):
    return packaging_module("sizes.py")


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("torch", "PyTorch (CPU)"),
        ("numpy.libs", "numpy"),
        ("PySide6", "Qt (PySide6)"),
        ("shiboken6", "Qt (PySide6)"),
        ("onnxruntime", "onnxruntime"),
        ("openvino", "OpenVINO"),
        ("openvino-2026.4.1.dist-info", "OpenVINO"),
        ("libopenvino.so.2641", "OpenVINO"),
        ("libopenvino_c.so.2641", "OpenVINO"),
        ("resources", "resources (models, teacher, samples)"),
        ("engine", "app code"),
        ("libpython3.11.so.1.0", "Python runtime"),
        ("base_library.zip", "Python runtime"),
        ("json", "Python runtime"),
        ("libX11.so.6", "shared libraries (Qt, image and system)"),
        ("jaxlib", "TFLite export tools"),
        ("something_new", "other"),
    ],
)
def test_part_of(sizes, name, part):
    assert sizes.part_of(name) == part


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


def test_table_adds_up_the_folder(sizes, tmp_path):
    bundle = tmp_path / "mfagan-studio"
    _write(bundle / "_internal" / "torch" / "lib" / "libtorch_cpu.so", 5000)
    _write(bundle / "_internal" / "numpy" / "core.so", 300)
    _write(bundle / "_internal" / "numpy.libs" / "openblas.so", 700)
    _write(bundle / "_internal" / "libX11.so.6", 50)
    _write(bundle / "mfagan", 40)  # not a PyInstaller executable: no PYZ to open
    (bundle / "_internal" / "libtorch.so").symlink_to("torch/lib/libtorch_cpu.so")
    rows = dict(sizes.table(bundle))
    assert rows == {
        "PyTorch (CPU)": 5000,
        "numpy": 1000,
        "shared libraries (Qt, image and system)": 50,
        "executables (bootloader, hooks)": 40,
    }
    text = sizes.render(sizes.table(bundle))
    assert "| PyTorch (CPU) | 0.0 | 82% |" in text
    assert "**total** | **0.0**" in text


def test_openvino_has_its_own_row(sizes, tmp_path):
    """The tree a build carries: openvino/ with its libs/, its dist-info, and libraries beside
    them that link into openvino/libs (not counted twice)."""
    bundle = tmp_path / "mfagan-studio"
    internal = bundle / "_internal"
    libs = internal / "openvino" / "libs"
    _write(libs / "libopenvino_intel_cpu_plugin.so", 6400)
    _write(libs / "libopenvino.so.2641", 2100)
    _write(libs / "libopenvino_onnx_frontend.so.2641", 700)
    _write(libs / "libtbb.so.12", 40)
    _write(internal / "openvino" / "_pyopenvino.cpython-311-x86_64-linux-gnu.so", 500)
    _write(internal / "openvino-2026.4.1.dist-info" / "RECORD", 10)
    _write(internal / "libopenvino_c.so.2641", 30)  # a copy, not a link: still OpenVINO's
    _write(internal / "something_new" / "__init__.py", 5)
    (internal / "libopenvino.so.2641").symlink_to("openvino/libs/libopenvino.so.2641")
    (internal / "libtbb.so.12").symlink_to("openvino/libs/libtbb.so.12")
    rows = dict(sizes.table(bundle))
    assert rows == {"OpenVINO": 6400 + 2100 + 700 + 40 + 500 + 10 + 30, "other": 5}
    assert "| OpenVINO | 0.0 | 100% |" in sizes.render(rows.items())
