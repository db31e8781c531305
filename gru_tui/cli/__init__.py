"""The `gru-tui` command: typer commands, each in its own module, over one declaration of the
run options (:mod:`gru_tui.cli.options`)."""

from __future__ import annotations

import sys

import typer

from gru_tui.cli import diagram, inspect, lab, params, replay, run, serve
from gru_tui.cli.options import SETTING_FLAGS
from gru_tui.errors import InputError, SettingError, escaped

app = typer.Typer(
    name="gru-tui",
    help="See inside GRU, LSTM and simple RNN cells, one timestep at a time.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.callback(invoke_without_command=True)(run.open_app)
app.command()(run.step)
app.command()(diagram.diagram)
app.command()(inspect.inspect)
app.command()(params.params)
app.command()(lab.lab)
app.command()(replay.replay)

serve_app = typer.Typer(
    help="Serve the app to a class: every student gets their own session.",
    no_args_is_help=True,
)
app.add_typer(serve_app, name="serve")
serve_app.command("ssh", context_settings=serve.PASSTHROUGH)(serve.serve_ssh)
serve_app.command("web", context_settings=serve.PASSTHROUGH)(serve.serve_web)


def main(argv: list[str] | None = None) -> None:
    """Entry point: bad data gets one line on stderr (control characters escaped) and exit
    code 2."""
    try:
        app(args=argv, prog_name="gru-tui")
    except SettingError as error:
        print(f"gru-tui: error: {escaped(error.worded(SETTING_FLAGS))}", file=sys.stderr)
        sys.exit(2)
    except InputError as error:
        print(f"gru-tui: error: {escaped(str(error))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
