"""Export the README's screenshots from the real app, as ctrl+s saves them (offline SVGs:
local fonts, bars as rectangles), under run_test.

    python screenshots/export.py            # writes screenshots/*.svg

Run it whenever the user interface changes, and look at the results.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from gru_tui.app.app import GruTuiApp
from gru_tui.app.screens import LabScreen
from gru_tui.core.examples import example_layers
from gru_tui.core.lab import Lab
from gru_tui.core.presets import keep_gates_open
from gru_tui.core.scenario import Scenario

HERE = Path(__file__).resolve().parent


async def shoot(name: str, size: tuple[int, int], keys: Sequence[str] = (),
                scenario: Scenario | None = None, projector: bool = False) -> Path:
    app = GruTuiApp(scenario, projector=projector)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        path = HERE / f"{name}.svg"
        path.write_text(app.screenshot_svg(), encoding="utf-8")
    return path


SHOTS = (
    ("main-80x24", (80, 24), ()),
    ("main-wide", (160, 48), ("right", "right")),
    ("main-200x60", (200, 60), ("right", "right")),
    ("projector-100x30", (100, 30), ("right",), None, True),
    ("projector-120x36", (120, 36), ("right", "right"), None, True),
    ("worked-example", (160, 48), ("right", "w")),
    ("help", (100, 40), ("question_mark",)),
    ("diagram-wide", (200, 60), ("right", "right", "d")),
    ("heat-strips", (120, 32), (), Scenario(hidden=64)),
    ("memory", (120, 40), ("m",),
     Scenario(preset="remember", models=("rnn", "gru", "lstm"), bias_offsets=keep_gates_open(),
              recurrent_scale=0.512)),
    ("example-hold", (140, 40), ("right",) * 8,
     Scenario(preset="pulses", reset="after", weights=example_layers("hold"), example="hold")),
)


async def shoot_lab(name: str, size: tuple[int, int], lab: Lab) -> Path:
    """The lab's screen as it stands, paused."""
    app = GruTuiApp()
    async with app.run_test(size=size) as pilot:
        await app.push_screen(LabScreen(lab, paused=True))
        await pilot.pause()
        path = HERE / f"{name}.svg"
        path.write_text(app.screenshot_svg(), encoding="utf-8")
    return path


def lab_mid_run() -> Lab:
    """`gru-tui lab` (adding, T = 100) after 400 of its 1500 iterations: the GRU has learned
    the sum, the LSTM and the simple RNN not yet."""
    lab = Lab("adding")
    for _ in range(400):
        lab.step()
    return lab


async def main() -> None:
    os.environ.pop("NO_COLOR", None)
    os.environ.pop("TEXTUAL_THEME", None)
    for name, size, keys, *options in SHOTS:
        path = await shoot(name, size, keys, *options)
        print(path.relative_to(HERE.parent))
    path = await shoot_lab("lab", (160, 48), lab_mid_run())
    print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    asyncio.run(main())
