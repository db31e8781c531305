"""The cell diagram in the app (`d`): the slides' figure with the selected unit's numbers at
step t, following every step, unit, edit and setting; one model at 80×24, side by side from
about 160 columns; enter opens the worked example at the chosen gate."""

from __future__ import annotations

import numpy as np
import pytest
from screen_reader import screen_text

from gru_tui.app.app import GruTuiApp
from gru_tui.app.screens import DiagramScreen, WorkedScreen
from gru_tui.core.examples import example_layers
from gru_tui.core.scenario import Scenario


def sigma(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_values(app, t: int, j: int) -> dict[str, float]:
    """r, z, Ĥ and h of the explorer's GRU, written out from SPEC §1 (reset before, z old)."""
    cell = app.explorer.traces["gru"].cell
    x, h = app.explorer.xs[t], app.explorer.traces["gru"]["h_prev"][t]
    (W_r, U_r, bi_r, bh_r), (W_z, U_z, bi_z, bh_z), (W_n, U_n, bi_n, bh_n) = (
        cell.gate(g) for g in "rzn")
    r = sigma(W_r @ x + bi_r + U_r @ h + bh_r)
    z = sigma(W_z @ x + bi_z + U_z @ h + bh_z)
    n = np.tanh(W_n @ x + bi_n + U_n @ (r * h) + bh_n)
    new = z * h + (1 - z) * n
    return {"r": r[j], "z": z[j], "n": n[j], "h": new[j]}


async def test_d_draws_the_gru_and_follows_steps_units_and_edits():
    app = GruTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, DiagramScreen)
        for keys, t, j in (((), 0, 0), (("right",), 1, 0), (("full_stop",), 1, 1),
                           (("end",), 7, 1), (("home", "comma"), 0, 0)):
            await pilot.press(*keys)
            v = gru_values(app, t, j)
            text = screen_text(app)
            assert f"t = {t + 1} / 8 · unit {j + 1} of 3" in text
            for label in (f"r_t {v['r']:.2f}", f"z_t {v['z']:.2f}", f"Ĥ_t {v['n']:+.2f}",
                          f"h_t {v['h']:+.2f}"):
                assert label in text, (keys, label)
        before = gru_values(app, 0, 0)["h"]
        await pilot.press("plus", "plus", "plus")  # edit x_1[1] from the diagram
        after = gru_values(app, 0, 0)["h"]
        assert after != before and f"h_t {after:+.2f}" in screen_text(app)


async def test_models_nodes_and_enter_at_a_gate():
    app = GruTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d", "2")
        text = screen_text(app)
        assert "LSTM · t = 1 / 8" in text and "GRU · t = 1" not in text
        assert "LSTM node: f_t forget gate" in text
        await pilot.press("down", "down")
        assert "LSTM node: C̃_t candidate" in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, WorkedScreen)
        worked = screen_text(app)
        assert "▶ Step 3: candidate C̃_t" in worked and "GRU" not in worked
        await pilot.press("escape")
        assert isinstance(app.screen, DiagramScreen)
        await pilot.press("tab")
        assert "Simple RNN · t = 1" in screen_text(app)  # tab also reaches models not shown
        await pilot.press("d")
        assert app.screen is app.main


async def test_wide_terminals_put_the_gru_and_the_lstm_side_by_side():
    app = GruTuiApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("d")
        lines = screen_text(app).splitlines()
        title = next(line for line in lines if "GRU · t = 1" in line)
        assert "LSTM · t = 1" in title  # the same row: side by side
        assert "Step 2: update gate z_t" in screen_text(app)  # room for the node's equation


async def test_the_slides_numbers_and_settings_follow_live():
    scenario = Scenario(weights=example_layers("slides"), example="slides")
    app = GruTuiApp(scenario)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d", "2")
        text = screen_text(app)
        for label in ("f_t 0.65", "i_t 0.53", "C̃_t +0.32", "C_t +0.56"):
            assert label in text, label
    app = GruTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d", "b")  # reset after, from the diagram
        assert "reset after" in screen_text(app)
        await pilot.press("z", "k")
        text = screen_text(app)
        assert "z weights new" in text
        cell = app.explorer.traces["gru"].cell
        assert cell.reset == "after" and cell.z_weights == "new"


@pytest.mark.parametrize("size", [(200, 60), (90, 20), (79, 24), (40, 10), (80, 24)])
async def test_resizing_with_the_diagram_open_never_breaks(size):
    app = GruTuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await pilot.resize_terminal(*size)
        await pilot.pause()
        text = " ".join(screen_text(app).split())
        if size[0] < 78 or size[1] < 17:
            assert "Make the terminal larger: the diagram needs 78×17, this one is" in text
        else:
            assert "GRU · t = 1" in text
        await pilot.press("right")
        assert app.explorer.t == 1


DIAGRAM_CHECKS = {
    "screen.next_model": (["tab"], lambda screen: screen.model == "lstm"),
    "screen.model('gru')": (["2", "1"], lambda screen: screen.model == "gru"),
    "screen.model('lstm')": (["2"], lambda screen: screen.model == "lstm"),
    "screen.model('rnn')": (["3"], lambda screen: screen.model == "rnn"),
    "screen.node(-1)": (["up"], lambda screen: screen.node == 2),  # wraps to Ĥ_t
    "screen.node(1)": (["down"], lambda screen: screen.node == 1),
    "screen.worked": (["enter"], lambda screen: isinstance(screen.app.screen, WorkedScreen)),
    "screen.close": (["escape"], lambda screen: screen.app.screen is screen.app.main),
}


def test_every_diagram_key_of_the_registry_has_a_check():
    from gru_tui.app.keys import DIAGRAM, keys_of

    assert {key.action for key in keys_of(DIAGRAM)} == set(DIAGRAM_CHECKS)


@pytest.mark.parametrize("action", list(DIAGRAM_CHECKS))
async def test_every_diagram_key_does_its_job(action):
    keys, done = DIAGRAM_CHECKS[action]
    app = GruTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d")
        screen = app.screen
        await pilot.press(*keys)
        assert done(screen), action


async def test_help_over_the_diagram_lists_its_keys_and_the_main_ones():
    app = GruTuiApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("d", "question_mark")
        text = screen_text(app)
        assert "Cell diagram" in text and "Diagram: next node" in text
        assert "Step forward" in text and "Nudge up by 0.1" in text
