"""A refused setting is said in the domain's words by the core, with the flag on the command
line and with the field in a session file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gru_tui.core.scenario import Scenario
from gru_tui.core.session import FORMAT, VERSION, load_session
from gru_tui.errors import InputError, SettingError


@pytest.mark.parametrize(("settings", "core", "flags"), [
    ({"hidden": 0}, "hidden size must be a positive integer, got 0",
     "--hidden must be a positive integer, got 0"),
    ({"h0": np.zeros(2), "hidden": 3}, "h0 has 2 values, the hidden state has 3",
     "--h0 has 2 values, the hidden state has 3"),
    ({"seed": -1}, "seed must be 0 or more, got -1", "--seed must be 0 or more, got -1"),
    ({"inputs": np.zeros((2, 3)), "preset": "sine"},
     "inputs and preset both give inputs; choose one",
     "--inputs and --preset both give inputs; choose one"),
    ({"hidden": 100_000}, "hidden size 100000 needs 521.6 GiB of weights for gru, lstm; "
     "gru-tui stops at 1 GiB",
     "--hidden 100000 needs 521.6 GiB of weights for gru, lstm; gru-tui stops at 1 GiB"),
])
def test_the_core_speaks_of_the_domain_and_the_cli_of_its_flags(settings, core, flags, cli):
    with pytest.raises(SettingError) as refused:
        Scenario(**settings)
    assert str(refused.value) == core
    args = []
    for name, value in settings.items():
        flag = {"inputs": "--inputs", "h0": "--h0"}.get(name, f"--{name}")
        text = ";".join(",".join(map(str, row)) for row in np.atleast_2d(value)) \
            if isinstance(value, np.ndarray) else str(value)
        args += [flag, text]
    assert cli.assert_bad(cli("step", "--json", *args)) == f"gru-tui: error: {flags}"


def test_a_session_file_names_its_fields(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "models": ["gru"],
                                "hidden": 4, "inputs": [[0.1, 0.2, 0.3]],
                                "h0": [0.0, 0.0, 0.0]}))
    with pytest.raises(InputError) as refused:
        load_session(path)
    assert str(refused.value) == f'--session {path}: "h0" has 3 values, the hidden state has 4'


def test_values_in_a_template_keep_their_braces():
    error = SettingError("{models} repeats a model: " + SettingError.quote("g{r}u"))
    assert str(error) == "models repeats a model: g{r}u"
    assert error.worded({"models": "--model"}) == "--model repeats a model: g{r}u"
