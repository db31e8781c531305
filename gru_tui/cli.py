"""The `gru-tui` command: a thin layer over the engine, the inputs and the app."""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer

from gru_tui import __version__
from gru_tui.errors import InputError

app = typer.Typer(
    name="gru-tui",
    help="See inside GRU, LSTM and simple RNN cells, one timestep at a time.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Reset(StrEnum):
    before = "before"
    after = "after"


class ZWeights(StrEnum):
    old = "old"
    new = "new"


class DType(StrEnum):
    float64 = "float64"
    float32 = "float32"


MODELS_HELP = "gru, lstm or rnn; repeat or comma-separate. \\[default: gru, lstm]"
INPUTS_HELP = ('Rows of x_t: inline "0.5,-0.3,0.8;0.1,0.2,0.3", a JSON array of rows, '
               "a .json/.csv/.npy file, or - for stdin.")
PRESET_HELP = ("A named input sequence: slides (the built-in example), sine, impulse, step, "
               "noise, pulses, remember.")

ModelOpt = Annotated[list[str] | None, typer.Option("--model", "-m", help=MODELS_HELP)]
InputsOpt = Annotated[str | None, typer.Option("--inputs", "-i", help=INPUTS_HELP)]
PresetOpt = Annotated[str | None, typer.Option("--preset", "-p", help=PRESET_HELP)]
StepsOpt = Annotated[int | None, typer.Option(
    "--steps", "-n", help="Length of a preset sequence. \\[default: the preset's own]")]
H0Opt = Annotated[str | None, typer.Option(
    "--h0", help="Initial hidden state, one row. \\[default: zeros; the slides' on the example]")]
C0Opt = Annotated[str | None, typer.Option(
    "--c0", help="Initial LSTM cell state, one row. \\[default: as --h0]")]
HiddenOpt = Annotated[int | None, typer.Option(
    "--hidden", "-H", help="Hidden units H. \\[default: 3, or the length of --h0]")]
SeedOpt = Annotated[int | None, typer.Option(
    "--seed", "-s", help="Seed of the random weights. \\[default: 0]")]
ResetOpt = Annotated[Reset | None, typer.Option(
    "--gru-reset", help="GRU reset gate before U_n (Cho, Keras reset_after=False) or after "
    "(PyTorch, cuDNN). \\[default: before]")]
ZOpt = Annotated[ZWeights | None, typer.Option(
    "--z-weights", help="GRU update gate weights the old state (Cho, PyTorch, Keras) or the "
    "new one (Olah, Wikipedia). \\[default: old]")]
DTypeOpt = Annotated[DType | None, typer.Option(
    "--dtype", help="Floating-point precision. \\[default: float64]")]
WeightsOpt = Annotated[str | None, typer.Option(
    "--weights", "-w", help="A PyTorch state dict (.safetensors or .npz), an ONNX model "
    "(.onnx) or a Keras file (.keras, .weights.h5, Keras 2 .h5): run its recurrent layer "
    "instead of random weights.")]
LayerOpt = Annotated[str | None, typer.Option(
    "--layer", "-l", help="Which layer of --weights: a name or an index as `gru-tui inspect` "
    "lists them. \\[default: the first forward layer]")]
KeepGatesOpt = Annotated[bool, typer.Option(
    "--keep-gates", help="Open the keep gates as training does, as k does in the app: +2 on "
    "the bias of the GRU's update gate (−2 with --z-weights new) and of the LSTM's forget "
    "gate.")]
UScaleOpt = Annotated[float | None, typer.Option(
    "--u-scale", help="Multiply every recurrent matrix U by this, as u / U do in the app: "
    "below 1 the simple RNN forgets faster. \\[default: 1]")]
ExampleOpt = Annotated[str | None, typer.Option(
    "--example", "-e", help="A GRU and an LSTM shipped with gru-tui, on their own inputs: "
    "slides (the built-in example with the slides' printed gate values at t = 1), delay "
    "(trained to repeat each input 3 steps later) or hold (trained to keep the latest pulse).")]


def _scenario(model, inputs, preset, steps, h0, c0, hidden, seed, gru_reset, z_weights, dtype,
              weights=None, layer=None, example=None, keep_gates=False, u_scale=None):
    """Check and gather the options shared by the app and `step`."""
    from gru_tui.io.inputs import read_row, read_rows
    from gru_tui.io.presets import keep_gates_open
    from gru_tui.scenario import DEFAULT_MODELS, Scenario

    models = tuple(m.strip().lower() for spec in (model or []) for m in spec.split(",")
                   if m.strip())
    if model and not models:
        raise InputError(f"--model {model[0]!r} names no model; choose gru, lstm or rnn")
    loaded = ()
    if layer is not None and weights is None:
        raise InputError("--layer chooses a layer of --weights; give --weights FILE")
    if example is not None and weights is not None:
        raise InputError("--example and --weights both give weights; choose one")
    if example is not None:
        from gru_tui.io.examples import example as find_example
        from gru_tui.io.examples import example_layers

        loaded = example_layers(example, models)
        if inputs is None and preset is None:
            preset = find_example(example).preset
    elif weights is not None:
        from gru_tui.io.weights import load_layer

        loaded = (load_layer(weights, layer),)
    for item in loaded:  # an example's layers are the --model ones already
        _check_against_weights(item, () if example else models, hidden, seed, gru_reset,
                               z_weights)
    gru = next((item for item in loaded if item.kind == "gru"), None)
    reset = gru.reset if gru is not None else (gru_reset or Reset.before).value
    if loaded:
        models = tuple(item.kind for item in loaded)
    if u_scale is not None and not (math.isfinite(u_scale) and u_scale > 0):
        raise InputError(f"--u-scale must be a positive number, got {u_scale}")
    z = (z_weights or ZWeights.old).value
    return Scenario(
        models=models or DEFAULT_MODELS,
        hidden=hidden,
        seed=seed or 0,
        dtype=(dtype or DType.float64).value,
        reset=reset,
        z_weights=z,
        bias_offsets=keep_gates_open(z) if keep_gates else (),
        recurrent_scale=1.0 if u_scale is None else u_scale,
        weights=loaded,
        example=example,
        inputs=None if inputs is None else read_rows(inputs, "--inputs"),
        preset=preset,
        steps=steps,
        h0=None if h0 is None else read_row(h0, "--h0"),
        c0=None if c0 is None else read_row(c0, "--c0"),
    )


def _check_against_weights(layer, models, hidden, seed, gru_reset, z_weights) -> None:
    """Options that would contradict what a loaded layer fixes."""
    where = f"layer {layer.name}"
    if models and models != (layer.kind,):
        raise InputError(f"--model {','.join(models)} conflicts with the weights: {where} is "
                         f"a {layer.kind}")
    if hidden is not None and hidden != layer.hidden_size:
        raise InputError(f"--hidden {hidden} conflicts with the weights: {where} has "
                         f"H = {layer.hidden_size}")
    if seed is not None:
        raise InputError("--seed draws random weights; drop it when loading --weights or "
                         "--example")
    if layer.kind == "gru" and gru_reset is not None and gru_reset.value != layer.reset:
        raise InputError(f"--gru-reset {gru_reset.value} conflicts with the weights: "
                         f"{layer.framework}'s GRU {layer.name} places the reset gate "
                         f"{layer.reset} U_n")
    if layer.kind == "gru" and z_weights is not None and z_weights.value != "old":
        raise InputError(f"--z-weights {z_weights.value} conflicts with the weights: "
                         f"{layer.framework}'s update gate weights the old state")


def _version(value: bool) -> None:
    if value:
        print(f"gru-tui {__version__}")
        raise typer.Exit()


SessionOpt = Annotated[str | None, typer.Option(
    "--session", help="A session file saved by the app (S): reopen it, or replay it with step.")]
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="JSON Lines, one object per model per timestep (see README).")]
GradientsOpt = Annotated[bool, typer.Option(
    "--gradients", help="Add how much the last h still depends on each step's input, "
    "‖∂h_T/∂x_t‖, and the per-step Jacobian norms (the whole run is kept in memory).")]
# --gradients needs the whole run before the first record: at most this many values of h.
MAX_GRADIENT_VALUES = 1 << 20


def _load(session, model, inputs, preset, steps, h0, c0, hidden, seed, gru_reset, z_weights,
          dtype, weights=None, layer=None, example=None, keep_gates=False, u_scale=None):
    """The session file if given (alone), else a scenario from the options."""
    if session is None:
        return None, _scenario(model, inputs, preset, steps, h0, c0, hidden, seed, gru_reset,
                               z_weights, dtype, weights, layer, example, keep_gates, u_scale)
    options = (("--model", model), ("--inputs", inputs), ("--preset", preset),
               ("--steps", steps), ("--h0", h0), ("--c0", c0), ("--hidden", hidden),
               ("--seed", seed), ("--gru-reset", gru_reset), ("--z-weights", z_weights),
               ("--dtype", dtype), ("--weights", weights), ("--layer", layer),
               ("--example", example), ("--keep-gates", keep_gates or None),
               ("--u-scale", u_scale))
    given = [name for name, value in options if value is not None]
    if given:
        raise InputError(f"--session sets the whole run; drop {', '.join(given)}")
    from gru_tui.io.session import load_session

    loaded = load_session(session)
    return loaded, loaded.scenario


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    model: ModelOpt = None,
    inputs: InputsOpt = None,
    preset: PresetOpt = None,
    steps: StepsOpt = None,
    h0: H0Opt = None,
    c0: C0Opt = None,
    hidden: HiddenOpt = None,
    seed: SeedOpt = None,
    gru_reset: ResetOpt = None,
    z_weights: ZOpt = None,
    dtype: DTypeOpt = None,
    weights: WeightsOpt = None,
    layer: LayerOpt = None,
    example: ExampleOpt = None,
    keep_gates: KeepGatesOpt = False,
    u_scale: UScaleOpt = None,
    session: SessionOpt = None,
    version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    check: Annotated[bool, typer.Option(
        "--check", hidden=True, help="Check the options and exit: what `serve` does first.")
    ] = False,
) -> None:
    """See inside GRU, LSTM and simple RNN cells, one timestep at a time.

    With no command, opens the app on the built-in example: the seed slides' x_1 = [0.5,
    -0.3, 0.8], h_0 = [0.2, 0.4, -0.1], C_0 = [0.6, -0.2, 0.3], then the sine preset. Press ?
    in the app for every key. Outside a terminal (a pipe), prints what `step` prints.
    """
    if ctx.invoked_subcommand is not None:
        return
    loaded, scenario = _load(session, model, inputs, preset, steps, h0, c0, hidden, seed,
                             gru_reset, z_weights, dtype, weights, layer, example,
                             keep_gates, u_scale)
    if check:
        return
    # A pipe or a script gets text, not the app; unless a Textual driver is named, as
    # `serve web` does: the web driver talks to the browser through pipes.
    in_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if not (in_terminal or os.environ.get("TEXTUAL_DRIVER")):
        _print_human(scenario)
        return
    from gru_tui.app.app import GruTuiApp

    if loaded is None:
        GruTuiApp(scenario).run()
    else:
        GruTuiApp(scenario, t=loaded.t, unit=loaded.unit, visible=scenario.models).run()


@app.command()
def step(
    model: ModelOpt = None,
    inputs: InputsOpt = None,
    preset: PresetOpt = None,
    steps: StepsOpt = None,
    h0: H0Opt = None,
    c0: C0Opt = None,
    hidden: HiddenOpt = None,
    seed: SeedOpt = None,
    gru_reset: ResetOpt = None,
    z_weights: ZOpt = None,
    dtype: DTypeOpt = None,
    weights: WeightsOpt = None,
    layer: LayerOpt = None,
    example: ExampleOpt = None,
    keep_gates: KeepGatesOpt = False,
    u_scale: UScaleOpt = None,
    session: SessionOpt = None,
    json_lines: JsonOpt = False,
    gradients: GradientsOpt = False,
) -> None:
    """Run the models over a sequence and print every gate and state of every step.

    With --weights, one layer of a file; a reverse layer's records run from the last input.
    """
    _, scenario = _load(session, model, inputs, preset, steps, h0, c0, hidden, seed, gru_reset,
                        z_weights, dtype, weights, layer, example, keep_gates,
                        u_scale)
    if json_lines:
        _write_json(scenario, gradients)
    else:
        _print_human(scenario, gradients)


def _runs(scenario, gradients: bool):
    """(offset, traces, memory profiles or None): streamed windows, or with --gradients the
    whole run as one window, since h_T must exist before the first record is written."""
    if not gradients:
        for offset, traces in scenario.run_in_chunks():
            yield offset, traces, None
        return
    total, H = scenario.total_steps, scenario.hidden_size
    if total * H > MAX_GRADIENT_VALUES:
        raise InputError(f"--gradients keeps the whole run in memory: at most "
                         f"{MAX_GRADIENT_VALUES // H} steps at H = {H}, got {total}")
    from gru_tui.engine.gradients import memory_profile

    for offset, traces in scenario.run_in_chunks(max(total, 1)):
        yield offset, traces, {model: memory_profile(trace) for model, trace in traces.items()}


def _write_json(scenario, gradients: bool = False) -> None:
    from gru_tui.io.records import json_lines

    out = sys.stdout
    runs = _runs(scenario, gradients)
    with _quiet_on_closed_pipe():
        for offset, traces, memory in runs:
            extra = None if memory is None else {m: p.columns() for m, p in memory.items()}
            out.write("\n".join(json_lines(traces, offset, extra)))
            out.write("\n")
            out.flush()


def _print_human(scenario, gradients: bool = False) -> None:
    from rich.console import Console

    from gru_tui.console import print_run

    console = Console(highlight=False)
    total = scenario.total_steps
    runs = _runs(scenario, gradients)
    with _quiet_on_closed_pipe():
        for offset, traces, memory in runs:
            last = offset + min(t.steps for t in traces.values()) >= total
            print_run(console, traces, offset, total, explain=last, memory=memory)


@contextmanager
def _quiet_on_closed_pipe():
    """The reader went away (`| head -1`): stop, exit 0, and keep Python from complaining
    when it flushes stdout on the way out."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None


@app.command()
def inspect(
    file: Annotated[str, typer.Argument(
        help="A PyTorch state dict (.safetensors, .npz), an ONNX model (.onnx) or a Keras "
             "file (.keras, .weights.h5, .h5).")],
    json_out: Annotated[bool, typer.Option("--json", help="A JSON list, one object per layer.")
                        ] = False,
) -> None:
    """List every recurrent layer of a weight file: the names and indices --layer takes."""
    from gru_tui.io.weights import read_layers

    layers = read_layers(file)
    if json_out:
        import json

        print(json.dumps([layer.describe(index) for index, layer in enumerate(layers)]))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Recurrent layers in {file}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    longest = max(len(layer.name) for layer in layers)
    for header in ("#", "name", "kind", "direction", "D", "H", "convention", "parameters"):
        numeric = header in ("#", "D", "H", "parameters")
        header = {"direction": "dir", "parameters": "params"}.get(header, header)
        table.add_column(header, justify="right" if numeric else "left",
                         no_wrap=True,  # names are what --layer takes
                         min_width=longest if header == "name" else None)
    for index, layer in enumerate(layers):
        table.add_row(str(index), layer.name, layer.kind, layer.direction,
                      str(layer.input_size), str(layer.hidden_size), layer.convention,
                      f"{layer.parameters:,}")
    console = Console(highlight=False)
    console.print(table)
    default = next((layer for layer in layers if not layer.reverse), layers[0])
    console.print(f"--layer picks one by name or #; the default is {default.name}.")


@app.command()
def params(
    input_size: Annotated[int, typer.Option("--input-size", "-D", help="Input width D.")] = 3,
    hidden: Annotated[int, typer.Option("--hidden", "-H", help="Hidden units H.")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Parameter counts of a GRU, LSTM and simple RNN: the slides' formula and frameworks."""
    import json

    from gru_tui.engine import parameter_table

    for option, value in (("--input-size", input_size), ("--hidden", hidden)):
        if value < 1:
            raise InputError(f"{option} must be a positive integer, got {value}")
    table = parameter_table(input_size, hidden)
    if json_out:
        ratios = {fw: table["gru"][fw] / table["lstm"][fw] for fw in table["gru"]}
        print(json.dumps({"input_size": input_size, "hidden": hidden, "counts": table,
                          "gru_lstm_ratio": ratios}))
        return
    from rich.console import Console

    from gru_tui.console import parameter_report

    Console(highlight=False).print(parameter_report(input_size, hidden, table))


serve_app = typer.Typer(
    help="Serve the app to a class: every student gets their own session.",
    no_args_is_help=True,
)
app.add_typer(serve_app, name="serve")

# Options after `--` go to every student's app: `gru-tui serve ssh -- --preset remember`.
PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
HostOpt = Annotated[str, typer.Option("--host", help="The address to listen on.")]


@serve_app.command("ssh", context_settings=PASSTHROUGH)
def serve_ssh(
    ctx: typer.Context,
    host: HostOpt = "0.0.0.0",
    port: Annotated[int, typer.Option("--port", help="The port to listen on (0: any free one).")
                    ] = 2222,
    authorized_keys: Annotated[str | None, typer.Option(
        "--authorized-keys", metavar="FILE",
        help="The students' public keys, one a line as in id_ed25519.pub; re-read when it "
             "changes. Default: ~/.ssh/authorized_keys of the user running the server.")] = None,
    open_access: Annotated[bool, typer.Option(
        "--open", help="Let ANYONE who reaches the port in, without a key.")] = False,
    host_key: Annotated[str | None, typer.Option(
        "--host-key", metavar="FILE",
        help="The server's private key, made there (ed25519, mode 0600) if missing. Default: "
             "$XDG_DATA_HOME/gru-tui/ssh_host_ed25519_key (~/.local/share/...).")] = None,
    max_sessions: Annotated[int, typer.Option(
        "--max-sessions", metavar="N", help="Sessions at once; the next one is asked to "
                                            "come back later.")] = 40,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", metavar="SECONDS",
        help="End a session after this long without a key pressed (0: never).")] = 3600,
) -> None:
    """An SSH server: every connection gets its own app in its own terminal.

    Options after -- go to every student's app, e.g. `gru-tui serve ssh -- --preset remember`.
    """
    from pathlib import Path

    from gru_tui.serve import checked_app_args
    from gru_tui.serve.ssh import run_ssh_server

    run_ssh_server(host=host, port=port, app_args=checked_app_args(ctx.args),
                   authorized_keys=Path(authorized_keys) if authorized_keys else None,
                   open_access=open_access, host_key=Path(host_key) if host_key else None,
                   max_sessions=max_sessions, idle_timeout=idle_timeout)


@serve_app.command("web", context_settings=PASSTHROUGH)
def serve_web(
    ctx: typer.Context,
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="The port to listen on.")] = 8000,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", metavar="URL",
        help="The address students' browsers use when it is not http://HOST:PORT, e.g. "
             "behind a proxy: https://gru.example.org. \\[default: the address each browser "
             "used]")] = None,
    max_sessions: Annotated[int | None, typer.Option(
        "--max-sessions", min=1, metavar="N",
        help="The most tabs served at once; more get a 'class is full' page. "
             "\\[default: no limit]")] = None,
) -> None:
    """Serve the app to web browsers, one session (its own app process) per tab.

    There is no login: it listens on 127.0.0.1 unless --host says otherwise;
    use --host 0.0.0.0 only on a network you trust. Options after -- go to
    every student's app: `gru-tui serve web --host 0.0.0.0 -- --preset remember`.
    """
    from gru_tui.serve import checked_app_args
    from gru_tui.serve.web import run_web_server

    run_web_server(host=host, port=port, app_args=checked_app_args(ctx.args),
                   public_url=public_url, max_sessions=max_sessions)


def main(argv: list[str] | None = None) -> None:
    """Entry point: bad data gets one line on stderr and exit code 2."""
    try:
        app(args=argv, prog_name="gru-tui")
    except InputError as error:
        print(f"gru-tui: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
