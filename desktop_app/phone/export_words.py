"""What the export says, in words: the format boxes, its progress lines and status-line
notices, and the report of what a bundle holds and what was measured on it (from its model
card). The engine's own words are the command line's; the numbers stay, in the report."""

from __future__ import annotations

from typing import Any

from desktop_app.phone.step_phone import runs_on
from desktop_app.wording import first_upper

# The file formats keep their names (the phone app's developer asks for them by name); the
# number format is said in words, its code in the tooltip.
FORMAT_TITLES = {
    "onnx": "ONNX, full precision",
    "onnx-int8": "ONNX, 8-bit",
    "tflite": "TFLite, full precision",
    "tflite-int8": "TFLite, 8-bit",
}
FORMAT_TIPS = {
    "onnx": "ONNX file, float32 weights and activations (ONNX Runtime)",
    "onnx-int8": "ONNX file quantized to INT8 (w8a8; ONNX Runtime)",
    "tflite": "TFLite file, float32 (LiteRT: the phone profiles' runtime)",
    "tflite-int8": "TFLite file quantized to INT8 (w8a8; LiteRT: the phone profiles' runtime)",
}
FILE_PRECISION = {"int8": "8-bit", "float32": "full precision", "float16": "16-bit"}


# The export's stages and notices (engine: export.job, export.formats, phones.aihub) as the
# strip and the status line say them: "Convert (litert-torch (int8))" and "max |diff| vs
# torch" were the command line's. The files' checks are in the report ("What was measured").
STAGE_WORDS = {
    "prepare": "Preparing pieces of the sample photos to check the files on",
    "teacher outputs": "Upscaling the check pieces with Best quality",
    "export": "Writing",
    "quantize": "Converting to 8-bit numbers",
    "convert": "Converting to TFLite",
    "verify": "Checking the file's results against the model's",
}
MESSAGE_WORDS = {
    "model card": "the model card (what the bundle holds)",
    "inference on the phone": "running the model on the phone",
    **FORMAT_TITLES,
}
SAYS_MESSAGE = ("export", "AI Hub")  # the others' messages are the method ("minmax, ...")
HUB_VS_LOCAL = "AI Hub output vs local: "


def progress_words(stage: str, message: str) -> str:
    """ "Writing: TFLite, 8-bit" for the engine's ("export", "tflite-int8")."""
    if (stage, message) == ("export", "aihub"):
        return "Compiling and profiling on AI Hub"
    words = STAGE_WORDS.get(stage, first_upper(stage))
    if not message or (stage in STAGE_WORDS and stage not in SAYS_MESSAGE):
        return words
    return f"{words}: {MESSAGE_WORDS.get(message, message)}"


def notice_words(message: str) -> str:
    """The export's notices for the status line: a written file by its name and size (its
    checks are in the report), AI Hub's units in step 1's words."""
    name, sep, rest = message.partition(": ")
    if sep and " MB in " in rest:  # engine: export.job._summary
        return f"Wrote {name} ({rest.split(', ')[0]})"
    if message.startswith(HUB_VS_LOCAL):
        db = message.removeprefix(HUB_VS_LOCAL).removesuffix(" PSNR-Y")
        return f"AI Hub's result against this computer's: {db} (higher is closer)"
    for unit in ("gpu", "npu"):
        message = message.replace(f"the {unit.upper()}", f"the {unit_words(unit)}")
    return message


def latency_text(estimate: dict[str, Any]) -> str:
    """A predicted latency as the card gives it: a rough one (the NPU's power law) as its
    range only, since one number would claim more than the fit knows; else the number with
    its band."""
    ms, low, high = estimate["ms"], estimate.get("low_ms"), estimate.get("high_ms")
    if low is None or high is None:
        return f"{ms:.2f} ms"
    if "rough" in str(estimate.get("basis", "")):
        return f"{low:.0f}–{high:.0f} ms (rough)"
    return f"{ms:.2f} ms ({low:.2f}–{high:.2f})"


def unit_words(unit: str) -> str:
    """ "graphics chip (GPU)": a compute unit as step 1 says it, without "its"."""
    return runs_on(unit, None).removeprefix("its ")


def report_html(card: dict[str, Any]) -> str:
    """What the bundle holds and what was measured on it, from its model card."""
    lines = ["<b>Files</b><ul>"]
    fidelity = card.get("fidelity") or {}
    losses = fidelity.get("int8_loss_vs_teacher_db") or {}
    for item in card.get("files", []):
        vs_float = (item.get("fidelity") or {}).get("psnr_y_vs_float_db")
        extra = ""
        if item["file"] in losses:
            extra = (
                f": the 8-bit (INT8) file loses {losses[item['file']]:.2f} dB of closeness "
                "to Best quality"
            )
        elif item.get("precision") == "int8" and vs_float is not None:
            extra = f": {vs_float:.1f} dB close to the full-precision file (higher is closer)"
        precision = str(item.get("precision", ""))
        lines.append(f"<li>{item['file']} ({FILE_PRECISION.get(precision, precision)}){extra}</li>")
    lines.append("</ul>")
    if "float_psnr_y_vs_teacher_db" in fidelity:
        lines.append(
            "Full-precision model's closeness to Best quality: "
            f"{fidelity['float_psnr_y_vs_teacher_db']:.2f} dB (higher is closer)."
        )
    predicted = card.get("predicted_latency") or {}
    measured = card.get("measured_latency")
    rows = []
    for unit in ("gpu", "npu"):
        estimate = predicted.get(unit)
        if isinstance(estimate, dict) and "ms" in estimate:
            text = latency_text(estimate)
            rows.append(f"<tr><td>predicted, {unit_words(unit)}</td><td>{text}</td></tr>")
    if measured:
        rows.append(
            f"<tr><td>measured on {measured.get('device', '?')}</td>"
            f"<td>{measured.get('inference_ms', float('nan')):.2f} ms</td></tr>"
        )
    if rows:
        lines.append("<br><b>Latency per tile</b><table>" + "".join(rows) + "</table>")
    if measured:
        off = measured.get("off_unit_layers") or []
        names = [layer.get("name", str(layer)) if isinstance(layer, dict) else str(layer)
                 for layer in off]  # fmt: skip
        unit = unit_words(str(measured.get("compute_unit", "npu")))
        lines.append(f"<br><b>Layers that did not run on the {unit}</b>: {len(names)}")
        lines.append("<ul>" + "".join(f"<li>{n}</li>" for n in names) + "</ul>" if names else "")
    return "".join(lines)
