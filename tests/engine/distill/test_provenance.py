"""Run records that hold on any computer: data sets by name and digest, portable commands."""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

import pytest

from engine.distill import provenance as prov
from engine.distill.provenance import dataset_digest, dataset_record, main, provenance
from engine.errors import UsageError


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/repo (with a recipe), tmp/sets/{T91,BSDS200}, tmp/runs/init/start.safetensors."""
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "repo" / "recipes").mkdir(parents=True)
    (tmp_path / "repo" / "recipes" / "a.toml").write_text("seed = 1\n")
    for name, files in (("T91", {"t1.png": b"one", "sub/t2.png": b"two"}), ("BSDS200", {})):
        for relative, data in files.items():
            (tmp_path / "sets" / name / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "sets" / name / relative).write_bytes(data)
        (tmp_path / "sets" / name).mkdir(parents=True, exist_ok=True)
    (tmp_path / "sets" / "T91" / ".DS_Store").write_bytes(b"litter")
    (tmp_path / "runs" / "init").mkdir(parents=True)
    (tmp_path / "runs" / "init" / "start.safetensors").write_bytes(b"w")
    return tmp_path


def test_a_command_is_rewritten_with_placeholders_and_repository_paths(layout: Path):
    sets, runs = layout / "sets", layout / "runs"
    command = shlex.join(
        [
            "mfagan", "distill", "--config", "recipes/a.toml",
            "--init", str(runs / "init" / "start.safetensors"),
            "--data", "../sets/T91", f"--data={sets / 'BSDS200'}",
            "--out", str(runs / "b6"), "--name", "b6-train", "--threads", "2",
        ]
    )  # fmt: skip
    record = provenance(
        command, ["../sets/T91", sets / "BSDS200"], cwd=layout / "repo", repo=layout / "repo"
    )
    assert record.command == (
        'mfagan distill --config recipes/a.toml --init "$RUNS/init/start.safetensors" '
        '--data "$DATASETS/T91" --data="$DATASETS/BSDS200" --out "$RUNS/b6" '
        "--name b6-train --threads 2"
    )
    assert [d["name"] for d in record.data] == ["T91", "BSDS200"]
    assert [d["files"] for d in record.data] == [2, 0]
    assert set(record.where) == {"run from", "$DATASETS", "$RUNS"}
    assert record.paths(runs / "init" / "start.safetensors") == "$RUNS/init/start.safetensors"
    assert record.paths(sets / "T91" / "t1.png") == "$DATASETS/T91/t1.png"
    assert record.paths(layout / "repo" / "recipes") == "recipes"
    assert str(layout) not in str(record.as_dict())


def test_a_portable_command_stays_as_it_is(layout: Path):
    sets = layout / "sets"
    first = provenance(
        f"mfagan distill --data {sets / 'T91'} --out {layout / 'runs' / 'x'}",
        [sets / "T91"],
        cwd=layout / "repo",
        repo=layout / "repo",
    )
    again = provenance(first.command, [sets / "T91"], cwd=layout, repo=layout / "repo")
    assert again.command == first.command == 'mfagan distill --data "$DATASETS/T91" --out "$RUNS/x"'


def test_placeholders_survive_the_shell(layout: Path):
    """Double quotes so the shell expands the variable; odd names still come back whole."""
    odd = layout / "sets" / "My Photos"
    odd.mkdir()
    record = provenance(shlex.join(["mfagan", "distill", "--data", str(odd)]), [odd], cwd=layout)
    assert record.command == "mfagan distill --data \"$DATASETS\"'/My Photos'"
    assert shlex.split(record.command)[-1] == "$DATASETS/My Photos"


def test_paths_with_no_common_folder_keep_only_their_names(tmp_path: Path):
    record = provenance("mfagan publish /a/run --picture /b/photo.png", [], cwd=tmp_path)
    assert record.command == 'mfagan publish "$RUNS/run" --picture "$RUNS/photo.png"'
    assert "$DATASETS" not in record.where


def test_words_that_are_not_paths_are_left_alone(tmp_path: Path):
    record = provenance("mfagan distill --name my-photos --threads 2 --quiet", [], cwd=tmp_path)
    assert record.command == "mfagan distill --name my-photos --threads 2 --quiet"
    assert provenance(f"mfagan x --name {'n' * 300}", [], cwd=tmp_path).command.endswith("n")
    assert provenance("", [], cwd=tmp_path).command == ""
    assert list(provenance("", [], cwd=tmp_path).where) == ["run from"]


def test_the_digest_is_sha256sum_of_the_files_and_skips_hidden_ones(layout: Path):
    folder = layout / "sets" / "T91"
    lines = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in (("sub/t2.png", b"two"), ("t1.png", b"one"))
    )
    # Sorted by path: "sub/t2.png" < "t1.png".
    expected = hashlib.sha256(lines.encode()).hexdigest()
    assert dataset_digest(folder) == (expected, 2)
    assert dataset_record(folder) == {"name": "T91", "files": 2, "sha256": expected}
    assert dataset_digest(layout / "sets" / "BSDS200")[0] == hashlib.sha256(b"").hexdigest()


def test_the_digest_is_cached_until_a_file_changes(layout: Path, monkeypatch: pytest.MonkeyPatch):
    folder = layout / "sets" / "T91"
    first = dataset_digest(folder)
    assert (layout / "cache" / prov.CACHE_NAME).is_file()

    def no_reading(path: Path) -> str:
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(prov, "file_sha256", no_reading)
    assert dataset_digest(folder) == first
    monkeypatch.undo()
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(layout / "cache"))
    changed = folder / "t1.png"
    changed.write_bytes(b"ONE")  # same size: the new modification time tells
    os.utime(changed, ns=(1, 1))  # set, not left to a clock that may be coarse
    assert dataset_digest(folder) != first


@pytest.mark.parametrize(
    "wrong",
    [
        "a string",
        ["a", "list"],
        7,
        None,
        {"stamp": 3, "sha256": "0" * 64, "files": 2},
        {"sha256": "0" * 64, "files": 2},
        {"stamp": "STAMP", "sha256": ["x"], "files": 2},
        {"stamp": "STAMP", "sha256": "short", "files": 2},
        {"stamp": "STAMP", "sha256": "0" * 64, "files": "2"},
        {"stamp": "STAMP", "sha256": "0" * 64, "files": True},
    ],
)
def test_a_wrong_typed_cache_entry_is_stale_and_rewritten(layout: Path, wrong):
    """A hand-edited or foreign ``dataset-digests.json`` entry: read the folder again."""
    import json

    folder = layout / "sets" / "T91"
    expected = dataset_digest(folder)
    cache_file = layout / "cache" / prov.CACHE_NAME
    cache = json.loads(cache_file.read_text())
    stamp = cache[str(folder.resolve())]["stamp"]
    if isinstance(wrong, dict) and wrong.get("stamp") == "STAMP":
        wrong = wrong | {"stamp": stamp}  # a matching stamp must not vouch for the rest
    cache[str(folder.resolve())] = wrong
    cache_file.write_text(json.dumps(cache))
    assert dataset_digest(folder) == expected
    assert json.loads(cache_file.read_text())[str(folder.resolve())]["sha256"] == expected[0]


def test_a_missing_data_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(UsageError, match="no such data folder"):
        dataset_record(tmp_path / "nowhere")


def test_the_command_line_prints_each_folder(layout: Path, capsys: pytest.CaptureFixture):
    assert main([str(layout / "sets" / "T91")]) == 0
    name, files, digest = capsys.readouterr().out.strip().split("\t")
    assert (name, files) == ("T91", "2 files")
    assert digest == f"sha256 {dataset_digest(layout / 'sets' / 'T91')[0]}"
    assert main([str(layout / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_an_evaluation_set_beside_the_training_sets_is_a_data_set_too(layout: Path):
    sets, runs = layout / "sets", layout / "runs"
    (sets / "Set14").mkdir()
    command = shlex.join(
        [
            "python", "x.py", "--data", str(sets / "T91"), "--eval", str(sets / "Set14"),
            "--out", str(runs / "ft" / "run"), "--search", str(runs / "ft" / "search.json"),
        ]
    )  # fmt: skip
    record = provenance(command, [sets / "T91"], cwd=layout / "repo", repo=layout / "repo")
    assert record.command == (
        'python x.py --data "$DATASETS/T91" --eval "$DATASETS/Set14" '
        '--out "$RUNS/run" --search "$RUNS/search.json"'
    )
    assert [d["name"] for d in record.data] == ["T91"]
