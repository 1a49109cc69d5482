"""The README section ``mfagan publish`` writes: how the shipped student was measured (with
every run behind its weights and what the commands' placeholders mean), one table per eval
set, the shipping goals and the predicted phone latency. Rendered from the model card alone,
so a card can be re-rendered without measuring again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.distill import export

FIDELITY_GAIN_DB = 3.0


def render_table(card: dict[str, Any]) -> str:
    """The README section: how it was measured, one table per eval set, the goals."""
    cost = card.get("cost", {})
    macs, params = cost.get("macs"), cost.get("params")
    ratio = f"{card['teacher_macs'] / macs:.0f}× fewer MACs than the teacher" if macs else ""
    published = card["published"]
    lines = [
        f"Measured by `{published['command']}` on {published['date']}. Student "
        f"`{card['config']}`: {params:,} parameters, {ratio} at "
        f"{export.PROFILE_SIDE}×{export.PROFILE_SIDE} LR; {_training_story(card)}. "
        f"Protocols: {_protocols(card)}.{_where(card)}",
        "",
        "| set | model | PSNR-Y vs GT | SSIM-Y vs GT | PSNR-Y vs teacher | SSIM-Y vs teacher |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in card["evaluation"].items():
        for label, key in (("bicubic", "bicubic"), ("teacher", "teacher"), ("student", "student")):
            s = e[key]
            lines.append(
                f"| {name} | {label} | {_cell(s['psnr_gt'], 2)} | {_cell(s['ssim_gt'], 4)} | "
                f"{_cell(s['psnr_teacher'], 2)} | {_cell(s['ssim_teacher'], 4)} |"
            )
    lines.append("")
    for name, e in card["evaluation"].items():
        g = e["goals"]
        line = (
            f"- {name}: fidelity to the teacher {g['fidelity_gain_db']:+.2f} dB over bicubic "
            f"(goal ≥ +{FIDELITY_GAIN_DB:.1f} dB: {_met(g['fidelity_gain_met'])})"
        )
        if g.get("psnr_gt_margin_db") is not None:
            line += (
                f"; PSNR-Y vs GT {g['psnr_gt_margin_db']:+.2f} dB against the teacher "
                f"(goal ≥ 0: {_met(g['psnr_gt_met'])})"
            )
        lines.append(line + ".")
    phone = card.get("predicted_latency")
    if phone:
        gpu, npu = phone["gpu"], phone["npu"]
        lines.append(
            f"- Predicted on a {phone['device']} at {export.PROFILE_SIDE}×{export.PROFILE_SIDE} LR "
            f"(`mfagan latency`, calibrated on public AI Hub figures; to be confirmed by a real "
            f"profile job): GPU {gpu['ms']:.1f} ms ({gpu['low_ms']:.1f}–{gpu['high_ms']:.1f}), "
            f"NPU {npu['low_ms']:.0f}–{npu['high_ms']:.0f} ms."
        )
    picture = published.get("side_by_side")
    if picture:
        lines += [
            "",
            "Each photo clean, then damaged (the damaged protocol): "
            f"![LR | bicubic | teacher | student | HR]({picture})",
        ]
    return "\n".join(lines) + "\n"


def _training_story(card: dict[str, Any]) -> str:
    """Every run behind the weights, oldest first: a fine-tuned student's card carries the card
    of the student it started from under ``init`` (see ``export.lineage``)."""
    chain = []
    entry: dict[str, Any] | None = card
    while entry:
        chain.append(entry)
        entry = entry.get("init")
    parts: list[str] = []
    seen: set[str] = set()
    for entry in reversed(chain):
        training = entry.get("training")
        if training is None:
            parts.append(
                f"started from `{entry.get('weights')}` (sha256 "
                f"{str(entry.get('weights_sha256'))[:12]}…)"
            )
            continue
        data = ", ".join(_data_name(d, seen) for d in training.get("data", []))
        verb = "trained" if not parts else "then fine-tuned"
        parts.append(
            f"{verb} for {training.get('steps')} steps on {data} (`{training.get('command')}`)"
        )
    return ", ".join(parts)


def _data_name(entry: str | dict[str, Any], seen: set[str]) -> str:
    """A data set as the card records it, its size and digest the first time it is named;
    older cards held a path."""
    if isinstance(entry, str):
        return Path(entry).name
    name = entry["name"]
    if name in seen:
        return name
    seen.add(name)
    files = f"{entry['files']} file{'' if entry['files'] == 1 else 's'}"
    return f"{name} ({files}, sha256 {entry['sha256'][:12]}…)"


def _where(card: dict[str, Any]) -> str:
    """What the placeholders in the card's commands stand for, as one sentence."""
    where: dict[str, str] = {}
    entry: dict[str, Any] | None = card
    while entry:
        where |= (entry.get("training") or {}).get("where", {})
        entry = entry.get("init")
    where |= card["published"].get("where", {})
    if not where:
        return ""
    parts = [f"`{key}` is {text}" for key, text in where.items() if key.startswith("$")]
    start = f"Commands run from {where['run from']}" if "run from" in where else "In commands"
    return f" {start}" + (f"; {'; '.join(parts)}" if parts else "") + "."


def _protocols(card: dict[str, Any]) -> str:
    """Each distinct protocol once, with the sets measured under it."""
    sets: dict[str, list[str]] = {}
    for name, e in card["evaluation"].items():
        sets.setdefault(e["protocol"], []).append(name)
    return "; ".join(f"{', '.join(names)}: {protocol}" for protocol, names in sets.items())


def _cell(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _met(flag: bool) -> str:
    return "met" if flag else "**not met**"
