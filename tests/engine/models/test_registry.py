"""The registry: known names, user files by path, clear errors, and the untrained student."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.errors import ModelError
from engine.models import registry
from engine.models.bicubic import BicubicUpsampler
from engine.models.mfa import DEFAULT_CONFIG, MFAConfig, MFAGenerator
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

NAMES = ["realesrgan-x4plus", "realesrgan-x4plus-anime", "mfagan", "bicubic"]


@pytest.fixture(autouse=True)
def no_shipped_student(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "STUDENT_WEIGHTS", tmp_path / "absent.safetensors")
    monkeypatch.setattr(registry, "PHONE_MODELS_DIR", tmp_path / "absent")


def test_lists_every_builtin_model_in_order() -> None:
    models = registry.list_models()
    assert [m.name for m in models] == NAMES
    for model in models:
        assert model.scale == 4 and model.in_channels == model.out_channels == 3
        assert registry.get_model(model.name).name == model.name


def test_teacher_is_default_while_the_student_is_untrained() -> None:
    student = registry.get_model("mfagan")
    assert not student.trained
    assert student.config == DEFAULT_CONFIG and "untrained" in student.title
    assert registry.default_model_name() == "realesrgan-x4plus"
    teacher = registry.get_model("realesrgan-x4plus")
    assert teacher.trained and teacher.config == RRDBNetConfig()
    assert registry.get_model("realesrgan-x4plus-anime").config == RRDBNetConfig(num_block=6)


def test_untrained_student_has_a_stable_weights_id_and_reproducible_weights() -> None:
    first, second = registry.get_model("mfagan"), registry.get_model("mfagan")
    assert first.weights_id() == second.weights_id()
    assert len(first.weights_id()) == 64
    assert first.size_multiple == 2
    a, b = first.load(), second.load()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))


def test_shipped_student_weights_are_loaded_and_become_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(False, True))
    net = MFAGenerator(config, seed=7)
    path = tmp_path / "mfagan-x4.safetensors"
    save_file(net.state_dict(), str(path), metadata={"config": config.encode()})
    monkeypatch.setattr(registry, "STUDENT_WEIGHTS", path)
    student = registry.get_model("mfagan")
    assert student.trained and student.config == config
    assert registry.default_model_name() == "mfagan"
    loaded = student.load()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))
    assert student.weights_id() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "Set14" not in student.description  # no card beside it yet
    card = {
        "evaluation": {"Set14": {"student": {"psnr_gt": 26.4}, "goals": {"fidelity_gain_db": 2.5}}}
    }
    path.with_suffix(".json").write_text(json.dumps(card))
    about = registry.get_model("mfagan").description
    assert about.endswith("Set14: 26.40 dB PSNR-Y, +2.50 dB closer to the teacher than bicubic")


def test_broken_shipped_student_is_a_model_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mfagan-x4.safetensors"
    save_file({"head.weight": torch.zeros(1)}, str(path), metadata={"config": "b9-nonsense"})
    monkeypatch.setattr(registry, "STUDENT_WEIGHTS", path)
    with pytest.raises(ModelError, match="not an MFA config"):
        registry.get_model("mfagan")
    save_file({"head.weight": torch.zeros(1)}, str(path))  # default config, wrong tensors
    with pytest.raises(ModelError, match="student weights do not load"):
        registry.get_model("mfagan").load()


def test_bicubic_entry() -> None:
    bicubic = registry.get_model("bicubic")
    assert isinstance(bicubic.load(), BicubicUpsampler)
    assert bicubic.weights_id() == registry.get_model("bicubic").weights_id()


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ModelError) as caught:
        registry.get_model("realesrgan-x8")
    message = str(caught.value)
    assert "unknown model 'realesrgan-x8'" in message
    assert all(name in message for name in NAMES)


def test_a_path_loads_a_user_model(tmp_path: Path) -> None:
    path = tmp_path / "my-esrgan.pth"
    torch.save(RRDBNet(RRDBNetConfig(num_block=1, num_feat=8)).state_dict(), path)
    descriptor = registry.get_model(str(path))
    assert descriptor.architecture == "spandrel:ESRGAN" and descriptor.name == "my-esrgan"
    with pytest.raises(ModelError, match="no such model file"):
        registry.get_model(str(tmp_path / "missing.safetensors"))


def test_duplicate_ids_are_refused() -> None:
    bicubic = registry.get_model("bicubic")
    with pytest.raises(ValueError, match="duplicate model id 'bicubic'"):
        registry.build_registry([bicubic, replace(bicubic, title="another")])


def test_students_trained_by_the_user_are_listed_and_loaded_by_name(tmp_path: Path) -> None:
    from engine.distill.export import register_user_model, save_student

    config = MFAConfig.decode("b2-c16-g8-h10-conv-x4")
    trained = MFAGenerator(config, seed=7)
    student = tmp_path / "student.safetensors"
    save_student(student, trained)
    target = register_user_model("my-photos", student, {"description": "tuned on my photos"})
    (target.parent / "broken.safetensors").write_bytes(b"not safetensors")

    names = [d.name for d in registry.list_models()]
    assert names[-1] == "my-photos" and "broken" not in names
    descriptor = registry.get_model("my-photos")
    assert (descriptor.trained, descriptor.architecture, descriptor.config) == (True, "mfa", config)
    loaded = descriptor.load()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), trained.eval()(x))
    by_path = registry.get_model(str(target))
    assert by_path.config == config and by_path.weights_id() == descriptor.weights_id()

    from engine.distill.export import check_model_name
    from engine.errors import UsageError

    assert check_model_name("my-photos") == "my-photos"  # retraining your own model is fine
    with pytest.raises(UsageError, match="built-in"):
        check_model_name("mfagan")


def test_copied_user_models_and_odd_cards_do_not_break_the_list(tmp_path: Path) -> None:
    from engine.distill.export import register_user_model, save_student

    student = tmp_path / "student.safetensors"
    save_student(student, MFAGenerator(MFAConfig.decode("b2-c16-g8-h10-conv-x4")))
    target = register_user_model("foo", student, {})
    copy = target.with_name("foo-copy.safetensors")
    copy.write_bytes(target.read_bytes())
    copy.with_suffix(".json").write_text(target.with_suffix(".json").read_text())
    odd = target.with_name("odd.safetensors")
    odd.write_bytes(target.read_bytes())
    odd.with_suffix(".json").write_text("[1, 2]")
    names = [d.name for d in registry.list_models()]
    assert names.count("foo") == 1 and "odd" in names
    assert registry.get_model("foo").trained


def test_the_shipped_phone_model_is_listed_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "PHONE_MODELS_DIR", registry.RESOURCES / "models")
    weights = registry.PHONE_MODELS_DIR / "mfagan-sd865.safetensors"
    card = json.loads(weights.with_suffix(".json").read_text(encoding="utf-8"))
    assert [m.name for m in registry.list_models()] == [*NAMES, "mfagan-sd865"]
    model = registry.get_model("mfagan-sd865")
    assert model.trained and model.config.encode() == card["config"] == card["nas"]["config"]
    assert card["name"] == "mfagan-sd865" and "Set14" in model.description
    assert card["nas"]["search"]["target"]["budget_ms"] == 15.0
    assert card["predicted_latency"]["gpu"]["ms"] <= 15.0
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert model.load()(x).shape == (1, 3, 32, 32)
    assert "mfagan-sd865" in registry.builtin_model_names()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_student_weights_that_are_not_finite_are_refused_at_load(
    tmp_path: Path, bad: float
) -> None:
    """Issue 22.9: NaN weights used to upscale to an all-black image with exit 0."""
    from engine.distill.export import save_student

    net = MFAGenerator(MFAConfig.decode("b2-c16-g8-h10-conv-x4"))
    with torch.no_grad():
        net.body[1].full2.weight[0, 0, 1, 1] = bad
    path = tmp_path / "diverged.safetensors"
    save_student(path, net)
    descriptor = registry.get_model(str(path))
    with pytest.raises(ModelError) as info:
        descriptor.load()
    kind = "NaN" if bad != bad else "infinite"
    assert str(info.value).startswith(f"{path}: tensor 'body.1.full2.weight' holds {kind} values")
    assert "\n" not in str(info.value)
