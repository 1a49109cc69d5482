"""Rewrite a model card written before ``engine.distill.provenance`` existed, so that it names
no folder of the machine that trained it, and re-render the README's student section from it.

    .venv/bin/python resources/training/portable_card.py resources/models/mfagan-x4.json \\
        --datasets DATASETS --readme README.md

``DATASETS`` is the folder holding the data sets the card names (T91, BSDS200, Set5, Set14).
For each run in the card (the last under ``training``, the earlier ones under ``init``) and
for the publish command: the command, data and config go through
``engine.distill.provenance`` as a new run's card would (data sets by name and content
digest, ``$DATASETS`` / ``$RUNS`` placeholders, repository paths relative to its root). A
``--config NAME`` is replaced by the recipe in ``resources/training/`` that loads to exactly
the config the card records (checked here; none matching is an error). Measured numbers are
not touched: the README section is ``publish.render_table`` of the rewritten card.
Running it again on a rewritten card changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from engine.distill.config import config_from_dict, load_config
from engine.distill.provenance import REPO, provenance
from engine.distill.publish import END_MARKER, START_MARKER, render_table
from engine.distill.report import write_json
from engine.errors import UsageError
from engine.measure.bench_report import update_readme

RECIPES = REPO / "resources" / "training"
MACHINE_PATH = re.compile(r"(?<![\w.$])/(?:work|root|home|Users|mnt|srv)/|\.\./")


def _folder(entry: str | dict[str, Any], datasets: Path) -> Path:
    """Where a recorded data set is now: its recorded path if it is still there."""
    if isinstance(entry, str) and Path(entry).is_dir():
        return Path(entry)
    name = Path(entry).name if isinstance(entry, str) else entry["name"]
    return datasets / name


def _recipe(config: dict[str, Any]) -> Path:
    """The recipe file that loads to ``config`` (data folders and init aside)."""
    bare = {**config, "init": None, "data": {**config["data"], "dirs": []}}
    wanted = config_from_dict(bare)
    for path in sorted(RECIPES.glob("*.toml")):
        try:
            if load_config(path) == wanted:
                return path
        except UsageError:  # a recipe of another kind (the supernet's)
            continue
    raise SystemExit(f"no recipe in {RECIPES} loads to the recorded config {config['student']}")


def _with_recipe(command: str, recipe: Path) -> str:
    return re.sub(r"--config \S+", f"--config {recipe.relative_to(REPO).as_posix()}", command)


def migrate_training(training: dict[str, Any], datasets: Path) -> dict[str, Any]:
    config = training["distill_config"]
    folders = [_folder(d, datasets) for d in training["data"]]
    recorded = config["data"]["dirs"]
    init = config.get("init")
    command = _with_recipe(training["command"], _recipe(config))
    origin = provenance(command, folders, cwd=REPO, paths=(init,))
    config = config | {
        "data": config["data"] | {"dirs": [origin.paths(_folder(d, datasets)) for d in recorded]},
        "init": origin.paths(init) if init else init,
    }
    rest = {k: v for k, v in training.items() if k not in ("command", "data", "where")}
    return origin.as_dict() | rest | {"distill_config": config}


def migrate(card: dict[str, Any], datasets: Path) -> dict[str, Any]:
    entry = card
    while entry:
        if "training" in entry:
            entry["training"] = migrate_training(entry["training"], datasets)
        entry = entry.get("init")
    published = card["published"]
    folders = [datasets / name for name in card["evaluation"]]
    origin = provenance(published["command"], folders, cwd=REPO)
    card["published"] = origin.as_dict() | {
        k: v for k, v in published.items() if k not in ("command", "data", "where")
    }
    left = MACHINE_PATH.findall(json.dumps(card))
    if left:
        raise SystemExit(f"still machine paths in the card: {left}")
    return card


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("card", type=Path)
    parser.add_argument("--datasets", type=Path, required=True)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    card = migrate(json.loads(args.card.read_text(encoding="utf-8")), args.datasets)
    write_json(args.card, card)
    if args.readme:
        update_readme(
            args.readme, render_table(card), start_marker=START_MARKER, end_marker=END_MARKER
        )
    print(f"rewrote {args.card}" + (f" and {args.readme}" if args.readme else ""))


if __name__ == "__main__":
    main()
