"""The photos to retrain on leave out the app's own upscaled results (a new user's Retrain
counted them as photos), with a reason in the scan's skip list and the count."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from skimage import data as skdata

from engine.distill.data import scan_photos
from engine.events import Finished, Notice
from engine.imageio import read_image, write_image
from engine.inference.batch_scan import OUR_RESULT, OUR_RESULT_BY_NAME


def test_results_of_the_app_are_not_photos_to_train_on(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, photo in (("astronaut.png", "astronaut"), ("coffee.jpg", "coffee")):
        Image.fromarray(getattr(skdata, photo)()[:96, :96]).save(folder / name)
    write_image(folder / "astronaut_big.webp", read_image(folder / "astronaut.png"))
    Image.open(folder / "coffee.jpg").save(folder / "coffee_bicubic_x4.png")  # unmarked, older
    decoded: list[str] = []
    real = read_image
    monkeypatch.setattr(
        "engine.distill.data.read_image", lambda path: decoded.append(path.name) or real(path)
    )
    events = list(scan_photos([folder], min_side=64))
    scan = events[-1].result
    assert isinstance(events[-1], Finished)
    assert sorted(image.path.name for image in scan.good) == ["astronaut.png", "coffee.jpg"]
    assert sorted((p.name, why) for p, why in scan.bad) == [
        ("astronaut_big.webp", OUR_RESULT),
        ("coffee_bicubic_x4.png", OUR_RESULT_BY_NAME),
    ]
    assert sorted(decoded) == ["astronaut.png", "coffee.jpg"]  # results are never decoded
    (count,) = [e.message for e in events if isinstance(e, Notice)]
    assert count.startswith(
        "2 photo(s) to train on; left out 2 earlier result(s) of MFAGAN Studio, 0 that "
        "cannot be read"
    )
