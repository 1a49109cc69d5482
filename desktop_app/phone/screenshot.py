"""``mfagan-studio --screenshot PATH --page phone --step N``: the wizard driven for real.

Each step up to N runs its real job on this computer (the shipped supernet and teacher)
with the defaults a new user gets, except a short fine-tuning; the window then shows step N.
The app's data folder is a scratch one (set by the caller), never the user's.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop_app.phone.page import PhonePage

FINETUNE_STEPS = 20
WAIT_MS = 30 * 60 * 1000


def stage(page: PhonePage, step: int, wait: Callable[[object, int], None]) -> None:
    """Run steps 1..``step`` (1-based) and leave the wizard on ``step``."""
    wizard = page.wizard
    phone = wizard.phone
    if phone.panel.running:
        wait(phone.panel.ended, WAIT_MS)
    wizard.go(1)
    goal = wizard.goal
    if goal.panel.running:
        wait(goal.panel.ended, WAIT_MS)
    actions = (
        (wizard.search, wizard.search.start),
        (wizard.finetune, _finetune(wizard.finetune)),
        (wizard.compare, wizard.compare.run),
        (wizard.export, wizard.export.export),
    )
    for index, (widget, start) in enumerate(actions, start=2):
        if index >= step:
            break
        wizard.go(index)
        start()
        wait(widget.panel.ended, WAIT_MS)
    wizard.go(min(step, 6) - 1)


def _finetune(widget) -> Callable[[], None]:
    def start() -> None:
        widget.steps.setValue(FINETUNE_STEPS)
        widget.start()

    return start
