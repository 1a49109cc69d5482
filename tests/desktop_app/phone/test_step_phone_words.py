"""Step 1's phone list says where a model runs in words; the runtime, precision code and
data release stay in the tooltip."""

from __future__ import annotations

import pytest

from desktop_app.phone.step_phone import describe, describe_details
from engine.phones.catalog import list_profiles


@pytest.mark.parametrize("profile", list_profiles(), ids=lambda p: p.name)
def test_each_phone_line_is_in_words_and_its_tooltip_keeps_the_facts(profile) -> None:
    line = describe(profile)
    assert "runs on its " in line
    for code in ("w8a8", "w8a16", "TFLite", "QNN", "qai-hub-models", "timed networks"):
        assert code not in line, (code, line)
    if profile.fit_quality is not None:
        assert profile.default_column.title in describe_details(profile)
