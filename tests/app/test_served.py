"""The app as `gru-tui serve` starts it for a student (``served``): `l` opens the shipped
examples and the files under the teacher's folder and nothing else, with one refusal that
says nothing of what exists; ctrl+s, S and the palette's Screenshot write nothing. And every
notice is one plain line, whatever a file name holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from screen_reader import screen_text
from textual.widgets import Input, Label, OptionList

from gru_tui.app.app import GruTuiApp
from gru_tui.app.screens import LoadScreen
from gru_tui.core.session import load_session

SIZE = (120, 40)


def gru_file(path: Path, H: int = 2, D: int = 3) -> Path:
    rng = np.random.default_rng(0)
    save_file({"rnn.weight_ih_l0": rng.normal(size=(3 * H, D)).astype("f4"),
               "rnn.weight_hh_l0": rng.normal(size=(3 * H, H)).astype("f4")}, str(path))
    return path


@pytest.fixture
def places(tmp_path, monkeypatch):
    """The teacher's folder (one weight file, a link out of it), a secret beside it, and an
    empty working directory and home, where nothing may appear."""
    folder = tmp_path / "class"
    folder.mkdir()
    gru_file(folder / "gru.safetensors")
    secret = gru_file(tmp_path / "exam_answers.safetensors")
    (folder / "link.safetensors").symlink_to(secret)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(work))  # Textual's downloads folder is under it
    return folder, secret, work


def notices(app: GruTuiApp) -> list[str]:
    """The notices on screen, as shown (after the app's escaping)."""
    return [notification.message for notification in app._notifications]


async def type_path(pilot, text: str) -> None:
    field = pilot.app.screen.query_one("#load-path", Input)
    field.value = text
    field.focus()
    await pilot.press("enter")
    await pilot.pause()


async def press(pilot, *keys: str) -> None:
    """Press, then let the notices the keys gave arrive."""
    await pilot.press(*keys)
    await pilot.pause()


def load_error(app: GruTuiApp) -> str:
    return str(app.screen.query_one("#load-error", Label).content)


async def test_a_served_l_opens_the_folders_files_and_refuses_every_other_name_alike(places):
    folder, secret, _ = places
    app = GruTuiApp(served=True, weights_dir=folder)
    refusal = f"on this server, l opens the shipped examples and the files in {folder}"
    async with app.run_test(size=SIZE) as pilot:
        before = app.explorer
        await pilot.press("l")
        choices = app.screen.query_one("#load-choices", OptionList)
        listed = [choices.get_option_at_index(i).id for i in range(choices.option_count)]
        assert listed[-1] == "file:gru.safetensors"  # the link out of the folder is not listed
        assert "file:link.safetensors" not in listed
        for name in (str(secret), "../exam_answers.safetensors", "link.safetensors",
                     "/etc/passwd", "/no/such/file.onnx", str(folder),
                     "a\x00b"):
            await type_path(pilot, name)
            assert isinstance(app.screen, LoadScreen), name
            assert load_error(app) == refusal, name
            assert notices(app)[-1] == refusal and app.explorer is before
        await type_path(pilot, "gru.safetensors")  # a name in the folder: it loads
        assert not isinstance(app.screen, LoadScreen)
        assert app.explorer.visible == ("gru",) and app.explorer.hidden_size == 2
        await pilot.press("l")
        await type_path(pilot, str(folder / "nope.onnx"))
        assert "nope.onnx: no such file" in load_error(app)  # inside the folder it may say so
        app.screen.query_one("#load-choices", OptionList).focus()
        await press(pilot, "end", "enter")  # the listed file, chosen from the list
        assert not isinstance(app.screen, LoadScreen)
        assert "gru.safetensors" in notices(app)[-1]


async def test_a_served_app_without_a_folder_offers_the_examples_only(places):
    folder, _, _ = places
    app = GruTuiApp(served=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        choices = app.screen.query_one("#load-choices", OptionList)
        ids = [choices.get_option_at_index(i).id for i in range(choices.option_count)]
        assert ids[0] == "random" and all(i.startswith("example:") for i in ids[1:])
        await type_path(pilot, str(folder / "gru.safetensors"))
        assert load_error(app) == "on this server, l opens the shipped examples only"
        await pilot.press("escape")
        await pilot.press("l")
        app.screen.query_one("#load-choices", OptionList).focus()
        await pilot.press("down", "enter")  # the first example
        await pilot.pause()
        assert app.explorer.scenario.example is not None


async def test_a_served_app_over_ssh_saves_nothing_and_says_what_to_do(places):
    _, _, work = places
    app = GruTuiApp(served=True)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "right", "ctrl+s")
        assert "Take a screenshot with your own computer" in notices(app)[-1]
        app.deliver_screenshot()  # the command palette's Screenshot
        await pilot.pause()
        assert "Take a screenshot with your own computer" in notices(app)[-1]
        await press(pilot, "S")
        assert "on your clipboard" in notices(app)[-1]
    assert list(work.rglob("*")) == []  # nothing in the working directory or the home
    session = json.loads(app.clipboard)  # what the student's terminal was sent (OSC 52)
    assert session["format"] == "gru-tui session" and session["t"] == 2
    path = work / "pasted.json"
    path.write_text(app.clipboard)
    assert load_session(path).t == 1  # it reopens where it was


async def test_a_session_too_long_for_the_clipboard_is_refused_with_a_notice(places):
    _, _, work = places
    from gru_tui.core.scenario import Scenario

    long_run = Scenario(inputs=np.linspace(-1, 1, 3 * 20_000).reshape(-1, 3))
    app = GruTuiApp(long_run, served=True)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "S")
        assert "too long for your clipboard" in notices(app)[-1]
    assert app.clipboard == "" and list(work.rglob("*")) == []


async def test_notices_and_the_load_dialog_show_odd_file_names_on_one_plain_line(tmp_path,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short name: the dialog's line does not wrap
    odd = "./two\nlines \x1b[31mred [b]bold[/b] \u202eevil.onnx"
    app = GruTuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await type_path(pilot, odd)
        shown = notices(app)[-1]
        assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown
        assert "two\\nlines \\x1b[31mred [b]bold[/b] \\u202eevil.onnx: no such file" in shown
        assert load_error(app) == shown  # the dialog says the same, markup left as text
        assert "[b]bold[/b]" in screen_text(app)
