"""The run options, declared once: what to run and how, for the app, `step` and any command
that runs the models.

``RunOptions`` lists every option with its typer annotation; :func:`run_options` gives a
command all of them as parameters and hands the command one ``RunOptions``; and
:meth:`RunOptions.load` turns them into a session (when ``--session`` is given) and a
:class:`~gru_tui.core.scenario.Scenario`. A new option is one field here, and its use in
``load``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer

from gru_tui.errors import InputError

# How the command line names the settings a SettingError speaks of.
SETTING_FLAGS = {"models": "--model", "hidden": "--hidden", "seed": "--seed",
                 "steps": "--steps", "inputs": "--inputs", "preset": "--preset",
                 "h0": "--h0", "c0": "--c0"}


class Reset(StrEnum):
    before = "before"
    after = "after"


class ZWeights(StrEnum):
    old = "old"
    new = "new"


class DType(StrEnum):
    float64 = "float64"
    float32 = "float32"


class RecurrentActivation(StrEnum):
    sigmoid = "sigmoid"
    hard_sigmoid = "hard_sigmoid"


MODELS_HELP = "gru, lstm or rnn; repeat or comma-separate. \\[default: gru, lstm]"
INPUTS_HELP = ('Rows of x_t: inline "0.5,-0.3,0.8;0.1,0.2,0.3", a JSON array of rows, '
               "a .json/.csv/.npy file, or - for stdin.")
PRESET_HELP = ("A named input sequence: slides (the built-in example), sine, impulse, step, "
               "noise, pulses, remember.")


@dataclass
class RunOptions:
    """Every option of a run, as the user gave it (None: not given)."""

    model: Annotated[list[str] | None, typer.Option("--model", "-m", help=MODELS_HELP)] = None
    inputs: Annotated[str | None, typer.Option("--inputs", "-i", help=INPUTS_HELP)] = None
    preset: Annotated[str | None, typer.Option("--preset", "-p", help=PRESET_HELP)] = None
    steps: Annotated[int | None, typer.Option(
        "--steps", "-n", help="Length of a preset sequence. \\[default: the preset's own]")
    ] = None
    h0: Annotated[str | None, typer.Option(
        "--h0", help="Initial hidden state, one row. \\[default: zeros; the slides' on the "
        "example]")] = None
    c0: Annotated[str | None, typer.Option(
        "--c0", help="Initial LSTM cell state, one row. \\[default: as --h0]")] = None
    hidden: Annotated[int | None, typer.Option(
        "--hidden", "-H", help="Hidden units H. \\[default: 3, or the length of --h0]")] = None
    seed: Annotated[int | None, typer.Option(
        "--seed", "-s", help="Seed of the random weights. \\[default: 0]")] = None
    gru_reset: Annotated[Reset | None, typer.Option(
        "--gru-reset", help="GRU reset gate before U_Ĥ (Cho, Keras reset_after=False) or after "
        "(PyTorch, cuDNN). \\[default: before]")] = None
    z_weights: Annotated[ZWeights | None, typer.Option(
        "--z-weights", help="GRU update gate weights the old state (Cho, PyTorch, Keras) or "
        "the new one (Olah, Wikipedia). \\[default: old]")] = None
    dtype: Annotated[DType | None, typer.Option(
        "--dtype", help="Floating-point precision. \\[default: float64]")] = None
    recurrent_activation: Annotated[RecurrentActivation | None, typer.Option(
        "--recurrent-activation", help="The GRU's and LSTM's gates: the logistic sigmoid, or "
        "Keras' hard_sigmoid (a Keras 3 file's relu6(a + 3)/6, else Keras 2's clip(0.2·a + "
        "0.5, 0, 1)). For weights whose file does not say. \\[default: the weights' own, "
        "else sigmoid]")] = None
    weights: Annotated[str | None, typer.Option(
        "--weights", "-w", help="A PyTorch state dict (.safetensors, .npz, or torch.save's .pt, "
        ".pth, .bin, .ckpt), an ONNX model (.onnx) or a Keras file (.keras, .weights.h5, Keras 2 "
        ".h5): run its recurrent layer instead of random weights.")] = None
    layer: Annotated[str | None, typer.Option(
        "--layer", "-l", help="Which layer of --weights: a name or an index as `gru-tui "
        "inspect` lists them. \\[default: the first forward layer]")] = None
    example: Annotated[str | None, typer.Option(
        "--example", "-e", help="A GRU and an LSTM shipped with gru-tui, on their own inputs: "
        "slides (the built-in example with the slides' printed gate values at t = 1), delay "
        "(trained to repeat each input 3 steps later) or hold (trained to keep the latest "
        "pulse).")] = None
    keep_gates: Annotated[bool, typer.Option(
        "--keep-gates", help="Open the keep gates as training does, as k does in the app: +2 "
        "on the bias of the GRU's update gate (−2 with --z-weights new) and of the LSTM's "
        "forget gate.")] = False
    u_scale: Annotated[float | None, typer.Option(
        "--u-scale", help="Multiply every recurrent matrix U by this, as u / U do in the app: "
        "below 1 the simple RNN forgets faster. \\[default: 1]")] = None
    session: Annotated[str | None, typer.Option(
        "--session", help="A session file saved by the app (S): reopen it, or replay it with "
        "step.")] = None
    record: Annotated[str | None, typer.Option(
        "--record", metavar="FILE.jsonl", help="Record the lesson in the app: every change "
        "with its time, and the markers dropped with M, as JSON Lines; play it back with "
        "gru-tui replay FILE.jsonl.")] = None
    projector: Annotated[bool, typer.Option(
        "--projector", help="For a projected screen: black on white, bars two rows tall, "
        "names in words, a large step counter, one model at a time below 110 columns (P in "
        "the app). step prints its bars two rows tall in colours for a light background.")
    ] = False

    # how the run is shown, not what runs: a session file does not fix these
    SHOWN_ONLY: typing.ClassVar[tuple[str, ...]] = ("--record", "--projector")

    def given(self) -> list[str]:
        """The flags given, in declaration order."""
        return [_flag(option) for option in dataclasses.fields(self)
                if getattr(self, option.name) not in (None, False)]

    def load(self):
        """(the session, or None; the scenario): the session file when given, alone, else the
        scenario of the other options."""
        if self.session is None:
            return None, self.scenario()
        others = [flag for flag in self.given()
                  if flag != "--session" and flag not in self.SHOWN_ONLY]
        if others:
            raise InputError(f"--session sets the whole run; drop {', '.join(others)}")
        from gru_tui.core.session import load_session

        loaded = load_session(self.session)
        return loaded, loaded.scenario

    def scenario(self):
        """The Scenario these options describe, after checking them against each other."""
        from gru_tui.core.presets import keep_gates_open
        from gru_tui.core.scenario import DEFAULT_MODELS, Scenario
        from gru_tui.io.inputs import read_row, read_rows

        models = tuple(m.strip().lower() for spec in (self.model or []) for m in spec.split(",")
                       if m.strip())
        if self.model and not models:
            raise InputError(f"--model {self.model[0]!r} names no model; choose gru, lstm or "
                             "rnn")
        if self.layer is not None and self.weights is None:
            raise InputError("--layer chooses a layer of --weights; give --weights FILE")
        if self.example is not None and self.weights is not None:
            raise InputError("--example and --weights both give weights; choose one")
        preset = self.preset
        loaded: tuple = ()
        if self.example is not None:
            from gru_tui.core.examples import example, example_layers

            loaded = example_layers(self.example, models)
            if self.inputs is None and preset is None:
                preset = example(self.example).preset
        elif self.weights is not None:
            from gru_tui.io.weights import load_layer

            loaded = (load_layer(self.weights, self.layer),)
        for item in loaded:  # an example's layers are the --model ones already
            self._check_against(item, () if self.example else models)
        gru = next((item for item in loaded if item.kind == "gru"), None)
        reset = gru.reset if gru is not None else (self.gru_reset or Reset.before).value
        if loaded:
            models = tuple(item.kind for item in loaded)
        if self.u_scale is not None and not (math.isfinite(self.u_scale) and self.u_scale > 0):
            raise InputError(f"--u-scale must be a positive number, got {self.u_scale}")
        z = (self.z_weights or ZWeights.old).value
        return Scenario(
            models=models or DEFAULT_MODELS,
            hidden=self.hidden,
            seed=self.seed or 0,
            dtype=(self.dtype or DType.float64).value,
            reset=reset,
            z_weights=z,
            recurrent_activation=self.recurrent_activation and self.recurrent_activation.value,
            bias_offsets=keep_gates_open(z) if self.keep_gates else (),
            recurrent_scale=1.0 if self.u_scale is None else self.u_scale,
            weights=loaded,
            example=self.example,
            inputs=None if self.inputs is None else read_rows(self.inputs, "--inputs"),
            preset=preset,
            steps=self.steps,
            h0=None if self.h0 is None else read_row(self.h0, "--h0"),
            c0=None if self.c0 is None else read_row(self.c0, "--c0"),
        )

    def _check_against(self, layer, models: tuple[str, ...]) -> None:
        """Options that would contradict what a loaded layer fixes."""
        from gru_tui.engine.activations import RECURRENT_ACTIVATIONS

        where = f"layer {layer.name}"
        if models and models != (layer.kind,):
            raise InputError(f"--model {','.join(models)} conflicts with the weights: {where} "
                             f"is a {layer.kind}")
        if self.hidden is not None and self.hidden != layer.hidden_size:
            raise InputError(f"--hidden {self.hidden} conflicts with the weights: {where} has "
                             f"H = {layer.hidden_size}")
        if self.seed is not None:
            raise InputError("--seed draws random weights; drop it when loading --weights or "
                             "--example")
        if layer.kind == "gru" and self.gru_reset is not None \
                and self.gru_reset.value != layer.reset:
            raise InputError(f"--gru-reset {self.gru_reset.value} conflicts with the weights: "
                             f"{layer.framework}'s GRU {layer.name} places the reset gate "
                             f"{layer.reset} U_n")
        if self.recurrent_activation is not None and layer.kind != "rnn" \
                and not layer.activations_assumed and layer.gate_activation(
                    self.recurrent_activation.value) != layer.recurrent_activation:
            raise InputError(f"--recurrent-activation {self.recurrent_activation.value} "
                             f"conflicts with the weights: {layer.framework}'s "
                             f"{layer.kind.upper()} {layer.name} gates run "
                             f"{RECURRENT_ACTIVATIONS[layer.recurrent_activation].origin}")
        if layer.kind == "gru" and self.z_weights is not None and self.z_weights.value != "old":
            raise InputError(f"--z-weights {self.z_weights.value} conflicts with the weights: "
                             f"{layer.framework}'s update gate weights the old state")


def _flag(option: dataclasses.Field) -> str:
    """An option's long flag, as its annotation declares it."""
    info = typing.get_type_hints(RunOptions, include_extras=True)[option.name].__metadata__[0]
    # typer.Option("--model", "-m") keeps its first name as `default` when used in Annotated
    return next(decl for decl in (info.default, *info.param_decls)
                if isinstance(decl, str) and decl.startswith("--"))


def run_options(command):
    """Give a typer command every run option: typer sees them as its parameters (after the
    command's own), and the command receives them as one ``options: RunOptions``."""
    hints = typing.get_type_hints(RunOptions, include_extras=True)
    shared = [inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY,
                                default=option.default, annotation=hints[option.name])
              for option in dataclasses.fields(RunOptions)]
    own = inspect.signature(command, eval_str=True)
    context = [p for p in own.parameters.values() if p.annotation is typer.Context]
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for name, p in own.parameters.items()
            if name != "options" and p.annotation is not typer.Context]
    parameters = [*context, *shared, *rest]  # --help lists the run options first
    names = {option.name for option in dataclasses.fields(RunOptions)}

    @functools.wraps(command)
    def wrapper(*args, **values):
        options = RunOptions(**{name: values.pop(name) for name in names})
        return command(*args, options=options, **values)

    del wrapper.__wrapped__  # typer reads the signature below, not the command's
    wrapper.__signature__ = own.replace(parameters=parameters)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
