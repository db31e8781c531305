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


def test_projector_is_a_run_option_the_app_step_and_serve_take(cli, tmp_path):
    """--projector is how the run is shown: the app and `step` take it, a session file
    does not fix it, and a teacher can hand it to every student after `serve … --`."""
    from gru_tui.serve.shared import checked_app_args

    assert cli("--projector", "--check").returncode == 0
    assert checked_app_args(["--", "--projector", "-p", "remember"]) == ["--projector", "-p",
                                                                        "remember"]
    session = tmp_path / "lesson.json"
    assert cli("--session", str(session), "--projector", "--check").returncode == 2  # no file
    from gru_tui.core.explorer import Explorer
    from gru_tui.core.session import save_session

    save_session(Explorer(), session)
    assert cli("--session", str(session), "--projector", "--check").returncode == 0


def test_step_for_a_projector_draws_its_bars_two_rows_tall(cli):
    plain, tall = (cli("step", "-n", "1", "-m", "gru", *extra, env={"COLUMNS": "120"}).stdout
                   for extra in ((), ("--projector",)))
    bar_lines = [sum("█" in line or "│" in line for line in out.splitlines())
                 for out in (plain, tall)]
    assert bar_lines[1] == 2 * bar_lines[0] > 0
