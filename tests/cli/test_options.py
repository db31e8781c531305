"""The run options are declared once (RunOptions) and every command that runs the models
takes all of them."""

from __future__ import annotations

import dataclasses

import typer.main

from gru_tui.cli import app
from gru_tui.cli.options import RunOptions


def flags_of(command) -> set[str]:
    return {opt for param in command.params for opt in param.opts}


def every_run_flag() -> set[str]:
    """The long flag of every RunOptions field: all of them given."""
    given = RunOptions(**{field.name: True if field.type == "bool" else "given"
                          for field in dataclasses.fields(RunOptions)})
    return set(given.given())


def test_the_app_and_step_take_every_run_option():
    group = typer.main.get_command(app)
    run_flags = every_run_flag()
    assert len(run_flags) == len(dataclasses.fields(RunOptions)) >= 17
    own = {"--version", "-V", "--check", "--help", "-h", "--follow-fd", "--teach-fd",
           "--served", "--served-weights-dir"}
    assert {f for f in flags_of(group) if f.startswith("--")} - own == run_flags
    assert run_flags <= flags_of(group.commands["step"])


def test_given_names_the_flags_the_user_gave():
    options = RunOptions(hidden=4, keep_gates=True, model=["gru"])
    assert options.given() == ["--model", "--hidden", "--keep-gates"]


def test_help_lists_the_run_options_first(cli):
    text = cli("step", "--help", env={"COLUMNS": "200"}).stdout
    assert text.index("--model") < text.index("--session") < text.index("--json")
