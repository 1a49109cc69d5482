"""Where a run's inputs came from, written so that a model card names no machine's folders.

``provenance(command, data_dirs)`` turns a command line and the data folders it read into a
record that holds on any computer:

- every data set by its folder name, file count and content digest (``dataset_digest``);
- the command with its paths rewritten: a data set as ``$DATASETS/<name>``, a path inside the
  repository relative to its root (where the command runs), any other path (run folders,
  init weights) under ``$RUNS``, the closest folder that holds them all;
- ``where``: what each placeholder stands for.

So ``--data <sets>/T91 --out <runs>/b6`` (any two absolute folders) is recorded as
``--data "$DATASETS/T91" --out "$RUNS/b6"``, which runs once both variables are set.

The digest of a folder is the sha256 of the lines ``<file sha256>  <relative path>\\n``, one
per file (hidden files skipped), sorted by path: ``sha256sum`` output, so it can be checked
without this code. ``python -m engine.distill.provenance FOLDER...`` prints it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UsageError
from engine.files import atomic_write_bytes, file_sha256
from engine.paths import RESOURCES, cache_dir

REPO = RESOURCES.parent
DATASETS = "$DATASETS"
RUNS = "$RUNS"
CACHE_NAME = "dataset-digests.json"
WHERE = {
    "run from": "the repository root",
    DATASETS: "the folder holding the data sets, each under its own name",
    RUNS: "a folder of your choice outside the repository, for run outputs (and other files "
    "a command names)",
}


@dataclass(frozen=True, kw_only=True)
class Provenance:
    command: str
    data: tuple[dict[str, Any], ...]
    where: dict[str, str]
    paths: PathMap

    def as_dict(self) -> dict[str, Any]:
        return {"command": self.command, "data": list(self.data), "where": self.where}


@dataclass(frozen=True, kw_only=True)
class PathMap:
    """Rewrites one path the way ``provenance`` does (see the module docstring)."""

    repo: Path
    cwd: Path
    datasets: dict[Path, str]
    runs: Path | None

    def __call__(self, path: str | Path) -> str:
        text = str(path)
        if text.startswith("$"):
            return text  # already portable
        full = _absolute(text, self.cwd)
        for root, name in self.datasets.items():
            if full.is_relative_to(root):
                return _placeholder(DATASETS, Path(name, full.relative_to(root)))
        # An evaluation set beside the training sets (``--eval datasets/Set14``) lives in
        # the same $DATASETS folder, not among the run's outputs.
        for parent in self.dataset_parents():
            if full.is_relative_to(parent) and full != parent:
                return _placeholder(DATASETS, full.relative_to(parent))
        if full.is_relative_to(self.repo):
            return full.relative_to(self.repo).as_posix()
        if self.runs is not None and full.is_relative_to(self.runs):
            return _placeholder(RUNS, full.relative_to(self.runs))
        return _placeholder(RUNS, Path(full.name))

    def dataset_parents(self) -> tuple[Path, ...]:
        return tuple(sorted({root.parent for root in self.datasets}))


def provenance(
    command: str,
    data_dirs: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    paths: Iterable[str | Path | None] = (),
    repo: Path = REPO,
) -> Provenance:
    """The portable record of a run; ``paths`` are other paths the caller will rewrite with
    ``Provenance.paths`` (config fields), so that they share the command's ``$RUNS``."""
    cwd = (cwd or Path.cwd()).resolve()
    repo = repo.resolve()
    datasets = {_absolute(str(d), cwd): Path(d).name for d in data_dirs}
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: a hand-written command, taken word by word
        words = command.split()
    found = [w for w in (_path_value(word, cwd) for word in words[1:]) if w]
    found += [str(p) for p in paths if p]
    mapper = PathMap(repo=repo, cwd=cwd, datasets=datasets, runs=None)
    parents = mapper.dataset_parents()
    outside = [
        full
        for full in (_absolute(p, cwd) for p in found if not p.startswith("$"))
        if not full.is_relative_to(repo)
        and not any(full.is_relative_to(d) and full != d for d in parents)  # data sets too
    ]
    runs = Path(os.path.commonpath([p.parent for p in outside])) if outside else None
    mapper = dataclasses.replace(mapper, runs=_useful_root(runs))
    portable = _join([words[0], *(_rewrite(w, cwd, mapper) for w in words[1:])] if words else [])
    used = {"run from"} | {key for key in (DATASETS, RUNS) if key in portable}
    used |= {DATASETS} if datasets else set()
    return Provenance(
        command=portable,
        data=tuple(dataset_record(Path(d)) for d in datasets),
        where={key: text for key, text in WHERE.items() if key in used},
        paths=mapper,
    )


def dataset_record(folder: Path) -> dict[str, Any]:
    """``{"name", "files", "sha256"}`` of one data folder; UsageError if it is not one."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such data folder")
    digest, count = dataset_digest(folder)
    return {"name": folder.name, "files": count, "sha256": digest}


def dataset_digest(folder: Path) -> tuple[str, int]:
    """(sha256, file count) of a folder's content, cached in ``cache_dir()`` by the folder's
    file names, sizes and modification times, so an unchanged folder is not read again."""
    folder = folder.resolve()
    files = sorted(
        (p.relative_to(folder).as_posix(), p)
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    stamp = hashlib.sha256()
    for name, path in files:
        info = path.stat()
        stamp.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    cache_file = cache_dir() / CACHE_NAME
    cache = _read_cache(cache_file)
    entry = cache.get(str(folder))
    if _valid_entry(entry) and entry["stamp"] == stamp.hexdigest():
        return entry["sha256"], entry["files"]
    lines = "".join(f"{file_sha256(path)}  {name}\n" for name, path in files)
    digest = hashlib.sha256(lines.encode()).hexdigest()
    cache[str(folder)] = {"stamp": stamp.hexdigest(), "sha256": digest, "files": len(files)}
    # A cache that cannot be written only costs the next run a re-read.
    with contextlib.suppress(OSError):
        atomic_write_bytes(cache_file, json.dumps(cache, indent=1).encode())
    return digest, len(files)


def _valid_entry(entry: Any) -> bool:
    """A cache entry of the shape ``dataset_digest`` writes; any other (a hand edit, another
    version's) is stale: the folder is read again and the entry rewritten."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("stamp"), str)
        and isinstance(entry.get("sha256"), str)
        and len(entry["sha256"]) == 64
        and isinstance(entry.get("files"), int)
        and not isinstance(entry["files"], bool)
    )


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _absolute(text: str, cwd: Path) -> Path:
    path = Path(text).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else cwd / path))


def _path_value(word: str, cwd: Path) -> str | None:
    """The path in one command word (``PATH`` or ``--option=PATH``), or None."""
    if word.startswith("-"):
        _, equals, value = word.partition("=")
        return value if equals and _looks_like_path(value, cwd) else None
    return word if _looks_like_path(word, cwd) else None


def _looks_like_path(word: str, cwd: Path) -> bool:
    if not word or word.startswith("$"):
        return False
    if "/" in word or os.sep in word or word.startswith("~"):
        return True
    try:
        return (cwd / word).exists()
    except OSError:  # a word too long to be a file name
        return False


def _rewrite(word: str, cwd: Path, mapper: PathMap) -> str:
    value = _path_value(word, cwd)
    if value is None:
        return word
    return word[: len(word) - len(value)] + mapper(value)


def _placeholder(variable: str, rest: Path) -> str:
    return variable if rest == Path(".") else f"{variable}/{rest.as_posix()}"


def _useful_root(runs: Path | None) -> Path | None:
    """No common folder at all (only the file system root) is no folder worth naming."""
    return None if runs is None or runs == Path(runs.anchor) else runs


def _join(words: Sequence[str]) -> str:
    """``shlex.join``, but a ``$VARIABLE/...`` value in double quotes so that the shell
    expands it (``shlex.quote`` would single-quote it)."""
    out = []
    for word in words:
        option, equals, value = word.partition("=") if word.startswith("-") else ("", "", word)
        if value.startswith("$") and value.partition("/")[0][1:].isidentifier():
            out.append(shlex.quote(option + equals) if equals else "")
            out[-1] += _quote_variable(value)
        else:
            out.append(shlex.quote(word))
    return " ".join(out)


def _quote_variable(word: str) -> str:
    variable, slash, rest = word.partition("/")
    tail = f"{slash}{rest}"
    if not tail or (shlex.quote(tail) == tail and '"' not in tail):
        return f'"{word}"'
    return f'"{variable}"{shlex.quote(tail)}'


def main(argv: Sequence[str] | None = None) -> int:
    """Print each folder's name, file count and digest, as a model card records them."""
    folders = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    for folder in folders:
        if not folder.is_dir():
            print(f"{folder}: not a folder", file=sys.stderr)
            return 2
        record = dataset_record(folder)
        print(f"{record['name']}\t{record['files']} files\tsha256 {record['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
