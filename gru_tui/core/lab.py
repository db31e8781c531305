"""The training lab, headless: a simple RNN, a GRU and an LSTM learning the same task side by side.

    lab = Lab("adding", models=("rnn", "gru", "lstm"), hidden=32, iterations=1000)
    for record in lab.run():          # or: while not lab.done: records = lab.step()
        print(record)
    lab.cell("gru")                   # the engine's GRUCell with the trained weights
    lab.save("runs/adding")           # <model>.safetensors and eval.npz

Every model starts from PyTorch's initialisation drawn from --seed, and at iteration k trains on
the task's training batch number k − 1 (the same for every model), by exact backpropagation
through time, global gradient-norm clipping and Adam. The held-out batch is drawn once, from a
stream no training batch uses, and every evaluation uses it.

Records (dicts; the command line writes them as JSON Lines), one per model per iteration:

    model, iteration (from 1), loss (the training batch's, before the update), eval_loss (the
    held-out batch's after the update, every eval_every iterations and at the last; else None),
    seconds (that model's training time so far, evaluations not counted), grad_norm (before
    clipping), params (every trained value: recurrent layer and readout)

and, when a model is done, one more: model, final=True, iteration (its last), loss, eval_loss,
seconds, params, and ``stopped`` (a one-line notice) if its loss stopped being finite. A
model whose loss becomes NaN or inf stops there, untouched by that iteration's update; the
others go on.

Threads: every method takes the lab's lock, so a UI thread may call :meth:`cell`,
:meth:`readout`, :meth:`history` or :meth:`save` while a worker thread calls :meth:`step`;
each waits at most for the iteration under way. What they return are copies.

BLAS threads: at these sizes (B·H in the thousands) a second BLAS thread costs more than it
gives, and on a busy machine its waiting makes an iteration many times slower; so while it
trains, the lab limits numpy's BLAS to ``blas_threads`` (default 1) through threadpoolctl,
when that package is installed (the limit is process-wide for the duration of a step).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from gru_tui.core.scenario import Scenario
from gru_tui.core.tasks import Batch, Task, make_task
from gru_tui.engine import GRUCell, LSTMCell, RNNCell
from gru_tui.engine.gates import from_engine_order
from gru_tui.engine.params import parameter_count as engine_parameter_count
from gru_tui.engine.training import Adam, Network, clip_gradient
from gru_tui.errors import InputError
from gru_tui.io.layers import Layer

MODELS = ("rnn", "gru", "lstm")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class LabOptions:
    """Everything that decides a lab's numbers; the same options give the same numbers."""

    task: str = "adding"
    models: tuple[str, ...] = MODELS
    hidden: int = 32
    match_params: bool = False
    batch: int = 32
    iterations: int = 1500
    lr: float = 1e-2
    length: int | None = None  # None: the task's default (copy: the blanks between)
    eval_every: int = 50
    eval_batch: int = 256
    dtype: str = "float32"
    seed: int = 0
    delay: int = 3
    clip: float | None = 1.0  # None: no clipping
    # added to the LSTM's initial forget-gate bias (b_ih's f rows), as Keras's
    # unit_forget_bias adds 1: the cell starts out keeping its memory
    forget_bias: float = 0.0
    blas_threads: int | None = 1  # while training; None: numpy's own setting


def parameter_count(kind: str, input_size: int, hidden_size: int, output_size: int) -> int:
    """What a lab model trains: g·(D·H + H·H + 2H) in the recurrent layer (PyTorch's two bias
    vectors) and O·H + O in the readout."""
    H, O = hidden_size, output_size  # noqa: E741
    return engine_parameter_count(kind, input_size, H, bias_vectors=2) + O * H + O


def matched_hidden_sizes(models: Sequence[str], hidden: int, input_size: int,
                         output_size: int) -> dict[str, int]:
    """--match-params: the GRU keeps H = `hidden`; every other model gets the H whose
    parameter count comes closest to the GRU's (the smaller H on a tie)."""
    target = parameter_count("gru", input_size, hidden, output_size)

    def distance(kind: str, H: int) -> tuple[int, int]:
        return abs(parameter_count(kind, input_size, H, output_size) - target), H

    return {kind: min(range(1, 4 * hidden + 2), key=lambda H: distance(kind, H))
            for kind in models}


@dataclass
class _Model:
    """One model's training state."""

    name: str
    network: Network
    optimiser: Adam
    iteration: int = 0
    seconds: float = 0.0
    loss: float | None = None
    eval_loss: float | None = None
    stopped: str | None = None
    done: bool = False
    reached: tuple[int, float] | None = None  # (iteration, seconds): eval_loss < threshold
    records: list[dict] = field(default_factory=list)


class Lab:
    """Train several models on one task, one iteration at a time (see the module docstring).

    Keywords are those of :class:`LabOptions`; `models` may also be one string, "rnn,gru".
    `save_to`, if given, is checked to be a writable directory (created if missing) before
    anything trains, and is where :meth:`save` writes by default. Bad options raise
    :class:`InputError`, one line.
    """

    def __init__(self, task: str = "adding", models: Sequence[str] | str = MODELS, *,
                 save_to: str | os.PathLike | None = None, **options) -> None:
        if isinstance(models, str):
            models = [name.strip() for name in models.split(",") if name.strip()]
        self.options = _checked(LabOptions(task=task, models=tuple(models), **options))
        self.task: Task = make_task(self.options.task, self.options.length, self.options.delay)
        self.save_to = None if save_to is None else check_directory(save_to)
        self._lock = threading.RLock()
        self.restart()

    # -- training --------------------------------------------------------------------------

    def restart(self) -> None:
        """Back to iteration 0 with the initial weights: the same numbers again."""
        with self._lock:
            o, task = self.options, self.task
            D, O = task.input_size, task.output_size  # noqa: E741
            if o.match_params:
                self.hidden_sizes = matched_hidden_sizes(o.models, o.hidden, D, O)
            else:
                self.hidden_sizes = dict.fromkeys(o.models, o.hidden)
            self.held_out = _as_dtype(task.held_out(o.eval_batch, o.seed), o.dtype)
            self._models: dict[str, _Model] = {}
            for name in o.models:
                conventions = {"reset": "after"} if name == "gru" else {}
                network = Network.create(name, D, self.hidden_sizes[name], O, seed=o.seed,
                                         dtype=o.dtype, **conventions)
                if name == "lstm" and o.forget_bias:
                    H, f = self.hidden_sizes[name], LSTMCell.GATES.index("f")
                    network.b_i[f * H : (f + 1) * H] += o.forget_bias  # a view of the params
                self._models[name] = _Model(name, network, Adam(network.params, o.lr))
            self.iteration = 0
            self.notices: list[str] = []

    @property
    def done(self) -> bool:
        """True when every model has finished or stopped."""
        return all(model.done for model in self._models.values())

    def step(self) -> list[dict]:
        """One iteration of every model still training: its record, and the final records
        of the models that finish with it. Empty once the lab is done."""
        with self._lock, self._blas_limit():
            if self.done:
                return []
            self.iteration += 1
            o = self.options
            batch = _as_dtype(self.task.batch(o.batch, o.seed, self.iteration - 1), o.dtype)
            evaluate = self.iteration % o.eval_every == 0 or self.iteration == o.iterations
            records = []
            for model in self._models.values():
                if not model.done:
                    records += self._train(model, batch, evaluate)
            return records

    def run(self) -> Iterator[dict]:
        """Every record, iteration by iteration, until the lab is done."""
        while not self.done:
            yield from self.step()

    def _train(self, model: _Model, batch: Batch, evaluate: bool) -> list[dict]:
        network = model.network
        start = time.perf_counter()
        loss = network.loss_and_gradient(batch.x, batch.y, batch.mask)
        grad_norm = clip_gradient(network.grads, self.options.clip)
        finite = math.isfinite(loss) and math.isfinite(grad_norm)
        if finite:
            model.optimiser.step(network.grads)
        model.seconds += time.perf_counter() - start
        if not finite:
            value, what = (loss, "loss") if not math.isfinite(loss) else (grad_norm, "gradient")
            model.stopped = (f"{model.name} stopped at iteration {self.iteration}: its {what} "
                             f"became {'NaN' if math.isnan(value) else 'infinite'} (try a "
                             "smaller --lr)")
            self.notices.append(model.stopped)
            model.eval_loss = self._evaluate(network)
            return [self._final(model)]
        model.iteration, model.loss = self.iteration, loss
        if evaluate:
            model.eval_loss = self._evaluate(network)
            if model.reached is None and model.eval_loss is not None \
                    and model.eval_loss < self.task.threshold:
                model.reached = (self.iteration, model.seconds)
        record = {"model": model.name, "iteration": self.iteration, "loss": loss,
                  "eval_loss": model.eval_loss if evaluate else None,
                  "seconds": model.seconds, "grad_norm": grad_norm,
                  "params": network.parameter_count}
        model.records.append(record)
        if self.iteration < self.options.iterations:
            return [record]
        return [record, self._final(model)]

    def _blas_limit(self):
        threads, controller = self.options.blas_threads, _blas_controller()
        if threads is None or controller is None:
            return nullcontext()
        return controller.limit(limits=threads, user_api="blas")

    def _evaluate(self, network: Network) -> float | None:
        held_out = self.held_out
        loss = network.loss(held_out.x, held_out.y, held_out.mask)
        return loss if math.isfinite(loss) else None

    def _final(self, model: _Model) -> dict:
        model.done = True
        record = {"model": model.name, "final": True, "iteration": model.iteration,
                  "loss": model.loss, "eval_loss": model.eval_loss, "seconds": model.seconds,
                  "params": model.network.parameter_count}
        if model.stopped:
            record["stopped"] = model.stopped
        model.records.append(record)
        return record

    # -- reading the models ----------------------------------------------------------------

    @property
    def models(self) -> tuple[str, ...]:
        return self.options.models

    def cell(self, model: str) -> GRUCell | LSTMCell | RNNCell:
        """The engine cell with `model`'s current weights (a GRU runs with reset "after")."""
        with self._lock:
            return self._model(model).network.cell()

    def readout(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        """(W_out [O, H], b_out [O]) of `model`: y_t = W_out h_t + b_out."""
        with self._lock:
            return self._model(model).network.readout()

    def predict(self, model: str, x) -> np.ndarray:
        """`model`'s outputs ŷ [B, T, O] for inputs x [B, T, D] (from zero states)."""
        with self._lock:
            return self._model(model).network.predict(np.asarray(x, dtype=self.options.dtype))

    def history(self, model: str, start: int = 0) -> list[dict]:
        """`model`'s records so far, in order, from record number `start` on (copies)."""
        with self._lock:
            return [dict(record) for record in self._model(model).records[start:]]

    def progress(self, model: str) -> dict:
        """Where `model` stands, without copying its history: iteration (its last), loss,
        eval_loss (the latest evaluation), seconds, params, hidden, done, stopped, and
        reached: (iteration, seconds) of the first evaluation below the task's threshold,
        or None."""
        with self._lock:
            m = self._model(model)
            return {"model": m.name, "iteration": m.iteration, "loss": m.loss,
                    "eval_loss": m.eval_loss, "seconds": m.seconds,
                    "params": m.network.parameter_count, "hidden": m.network.hidden_size,
                    "done": m.done, "stopped": m.stopped, "reached": m.reached}

    def probe(self) -> Batch:
        """The probe sequence: the held-out batch's first, as x [T, D], y [T, O], mask [T]."""
        held_out = self.held_out
        return Batch(held_out.x[0], held_out.y[0], held_out.mask[0])

    def layers(self, models: Sequence[str] | None = None) -> tuple[Layer, ...]:
        """`models` (default: all) as the layers a weight file gives, with their current
        weights: what the explorer runs."""
        with self._lock:
            return tuple(self._layer(self._model(name)) for name in (models or self.models))

    def _layer(self, model: _Model) -> Layer:
        cell = model.network.cell()
        tensors = {"weight_ih": cell.W, "weight_hh": cell.U, "bias_ih": cell.b_i,
                   "bias_hh": cell.b_h}
        return Layer(name=f"{model.name} trained on {self.task.name}, iteration "
                          f"{model.iteration}",
                     kind=model.name, direction="forward", input_size=cell.input_size,
                     hidden_size=cell.hidden_size,
                     convention="reset after" if model.name == "gru" else "pytorch",
                     parameters=sum(int(t.size) for t in tensors.values()), tensors=tensors,
                     order=cell.GATES, reset="after", framework="gru-tui lab")

    def scenario(self, models: Sequence[str] | None = None) -> Scenario:
        """`models` (default: all) with their current weights on the probe sequence, for the
        explorer; they must share one hidden size."""
        models = tuple(models or self.models)
        sizes = {self.hidden_sizes[name] for name in models}
        if len(sizes) > 1:
            raise InputError(f"{' and '.join(models)} differ in hidden size; the explorer "
                             "runs one hidden size at a time")
        return Scenario(models=models, weights=self.layers(models), inputs=self.probe().x,
                        dtype=self.options.dtype, reset="after")

    def evaluate(self, model: str) -> float | None:
        """The held-out loss of `model` now (None if not finite)."""
        with self._lock:
            return self._evaluate(self._model(model).network)

    def _model(self, name: str) -> _Model:
        if name not in self._models:
            raise InputError(f"no model {name!r} in this lab; it trains "
                             f"{', '.join(self._models)}")
        return self._models[name]

    # -- files -----------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike | None = None) -> list[Path]:
        """Write every model as ``<model>.safetensors`` (PyTorch's names and gate order: the
        recurrent layer as nn.RNN / nn.GRU / nn.LSTM's ``weight_ih_l0``, ``weight_hh_l0``,
        ``bias_ih_l0``, ``bias_hh_l0``, the readout as nn.Linear's ``readout.weight``,
        ``readout.bias``) and the held-out batch as ``eval.npz`` (x, y, mask). Returns the
        paths written."""
        from safetensors.numpy import save  # bytes: the files get the user's usual mode

        with self._lock:
            if directory is None and self.save_to is None:
                raise InputError("no directory to save to")
            folder = self.save_to if directory is None else check_directory(directory)
            written = []
            for model in self._models.values():
                path = folder / f"{model.name}.safetensors"
                path.write_bytes(save(self._tensors(model), metadata=self._metadata(model)))
                written.append(path)
            path = folder / "eval.npz"
            held_out = self.held_out
            np.savez(path, x=held_out.x, y=held_out.y, mask=held_out.mask)
            written.append(path)
            return written

    def _tensors(self, model: _Model) -> dict[str, np.ndarray]:
        network, kind = model.network, model.name

        def pytorch(array: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(from_engine_order(kind, "pytorch", array))

        return {"weight_ih_l0": pytorch(network.W), "weight_hh_l0": pytorch(network.U),
                "bias_ih_l0": pytorch(network.b_i), "bias_hh_l0": pytorch(network.b_h),
                "readout.weight": network.W_out.copy(), "readout.bias": network.b_out.copy()}

    def _metadata(self, model: _Model) -> dict[str, str]:
        network = model.network
        options = asdict(self.options)
        meta = {
            "trained_by": "gru-tui lab",
            "model": model.name,
            "convention": "reset after" if model.name == "gru" else "pytorch",
            "task": json.dumps(self.task.describe()),
            "options": json.dumps(options),
            "input_size": str(network.input_size),
            "hidden_size": str(network.hidden_size),
            "output_size": str(network.output_size),
            "params": str(network.parameter_count),
            "iterations": str(model.iteration),
            "seed": str(self.options.seed),
            "eval_loss": json.dumps(model.eval_loss),
            "loss": "masked MSE: sum of mask·(ŷ − y)² over b, t, o / (O · sum of mask)",
        }
        if model.stopped:
            meta["stopped"] = model.stopped
        return meta


# -- options and files -----------------------------------------------------------------------


def _positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"--{name} must be a positive integer, got {value}")


def _checked(options: LabOptions) -> LabOptions:
    """The options if they make sense; else a one-line InputError naming the option."""
    if not options.models:
        raise InputError("-m needs at least one model: rnn, gru, lstm")
    for name in options.models:
        if name not in MODELS:
            raise InputError(f"-m: unknown model {name!r}; choose from {', '.join(MODELS)}")
    if len(set(options.models)) != len(options.models):
        raise InputError(f"-m names a model twice: {','.join(options.models)}")
    for name in ("hidden", "batch", "iterations", "eval_every", "eval_batch"):
        _positive_int(name.replace("_", "-"), getattr(options, name))
    if options.blas_threads is not None:
        _positive_int("blas-threads", options.blas_threads)
    if isinstance(options.seed, bool) or not isinstance(options.seed, int) or options.seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {options.seed}")
    if not (isinstance(options.lr, int | float) and math.isfinite(options.lr)
            and options.lr > 0):
        raise InputError(f"--lr must be a positive number, got {options.lr}")
    if options.clip is not None and not (isinstance(options.clip, int | float)
                                         and options.clip > 0):
        raise InputError(f"--clip must be a positive number, got {options.clip}")
    if not (isinstance(options.forget_bias, int | float) and math.isfinite(options.forget_bias)):
        raise InputError(f"--forget-bias must be a number, got {options.forget_bias}")
    if options.forget_bias and "lstm" not in options.models:
        raise InputError("--forget-bias sets the LSTM's forget gate; -m trains no lstm")
    if options.dtype not in DTYPES:
        raise InputError(f"--dtype must be float32 or float64, got {options.dtype}")
    return options


def check_directory(directory: str | os.PathLike) -> Path:
    """`directory`, created if missing, once a file could be written there; else InputError."""
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".gru-tui-lab-"):
            pass
    except FileExistsError:
        raise InputError(f"--save {path}: exists and is not a directory") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"--save {path}: cannot write there ({reason})") from None
    return path


@cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (found once), or None without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _as_dtype(batch: Batch, dtype: str) -> Batch:
    return Batch(batch.x.astype(dtype), batch.y.astype(dtype), batch.mask.astype(dtype))
