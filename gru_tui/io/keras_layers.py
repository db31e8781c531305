"""The GRU / LSTM / SimpleRNN layers of Keras files as :class:`~gru_tui.io.layers.Layer`.

Read with h5py only (the optional ``gru-tui[keras]`` extra); nothing in a file is executed,
Keras itself is never imported:

- Keras 3 ``.keras`` archives: a zip whose ``model.weights.h5`` is read in memory (its size
  checked before and while reading) and whose ``config.json`` is read as plain JSON, only for
  layer names and options (activations, reset_after, go_backwards). Objects named there
  (Lambda layers, custom classes) are never deserialized.
- Keras 3 ``.weights.h5`` files: every layer under ``layers/<class>[_k]`` (a subclassed
  model's under its attribute names, a nested model's under its own ``layers``), a recurrent
  one with ``cell/vars/0`` (kernel), ``1`` (recurrent_kernel) and ``2`` (bias, if used); the
  layer's own name is the ``name`` attribute of its ``vars`` group. A Bidirectional wrapper
  holds ``forward_layer`` and ``backward_layer``.
- Keras 2 ``.h5`` files, whole models (``model_weights``, ``model_config``) and weights only:
  the ``layer_names`` attribute lists the layers, each group's ``weight_names`` its tensors
  (``gru/gru_cell/kernel:0``…); Keras 3's legacy saver writes the same layout.

Keras stores kernel (D, g·H), recurrent_kernel (H, g·H) and bias with gate columns z, r, h
(GRU) and i, f, c, o (LSTM). A GRU's bias of shape (2, 3·H) is reset_after=True (input and
recurrent biases: reset "after"), of shape (3·H,) reset_after=False (reset "before"). The
update gate weights the old state. A layer with go_backwards runs from the last input to the
first, as does the backward half of a Bidirectional wrapper. Keras 2's CuDNNGRU and CuDNNLSTM
keep one bias of 2·g·H values (input biases, then recurrent ones); their GRU resets "after",
and cuDNN's gates are always σ and tanh.

The gates' recurrent_activation is sigmoid or hard_sigmoid, the latter exactly as the Keras
that wrote the file (its keras_version) defines it. Where the file does not say (weights
only), the writer's defaults are assumed and the layer says so: Keras before 2.3 defaulted
to hard_sigmoid.

Nothing outside the file is ever opened: before anything else every link of the HDF5 tree is
checked (soft and external links, and datasets stored elsewhere, are refused wherever they
sit); groups are walked once each, within the walk's time bound, and the declared sizes of
every layer's tensors are summed against the file's budget
(:class:`~gru_tui.io.layers.FileBudget`) before any is read.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gru_tui.engine.activations import RECURRENT_ACTIVATIONS, SIGMOID
from gru_tui.engine.gates import KIND_BY_GATE_COUNT, TABLES, gate_count
from gru_tui.errors import InputError
from gru_tui.io.layers import (
    MAX_FILE_BYTES,
    FileBudget,
    Layer,
    check_values,
    check_zip_member,
    first_line,
    size_text,
)

KINDS = {"GRU": "gru", "LSTM": "lstm", "SimpleRNN": "rnn"}
CUDNN_KINDS = {"CuDNNGRU": "gru", "CuDNNLSTM": "lstm"}  # Keras 2's cuDNN layers
CELL_KINDS = {"gru_cell": "gru", "lstm_cell": "lstm", "simple_rnn_cell": "rnn",
              "GRUCell": "gru", "LSTMCell": "lstm", "SimpleRNNCell": "rnn"}
ROLES = ("kernel", "recurrent_kernel", "bias")
MAX_CONFIG_BYTES = 16 << 20
CHUNK_BYTES = 1 << 20  # a zip member is unpacked this much at a time
MAX_DEPTH = 64  # groups nested in groups: Keras writes a handful
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class Found(NamedTuple):
    """A recurrent layer as the walk finds it, before its tensors are read."""

    name: str
    where: str  # its group in the file
    tensors: dict[str, tuple[str, object]]  # role → (label, h5py dataset)
    config: dict | None  # its entry in the model's config
    kind: str | None  # from its cell's name, if that says
    reverse: bool | None  # None: from the config's go_backwards


@dataclass(frozen=True)
class Writer:
    """The Keras that wrote a file, as far as its keras_version says: the defaults a file
    without config leaves unsaid, and the form of its hard_sigmoid."""

    version: tuple[int, int] | None  # (major, minor); None when the file does not say
    major: int  # the version's, or the layout's (3: Keras 3's files) when it does not say

    @classmethod
    def of(cls, text, layout_major: int) -> Writer:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        match = re.match(r"\s*(\d+)\.(\d+)", text) if isinstance(text, str) else None
        if match is None:
            return cls(None, layout_major)
        return cls((int(match[1]), int(match[2])), int(match[1]))

    @property
    def hard_sigmoid(self) -> str:
        return "hard_sigmoid_keras3" if self.major >= 3 else "hard_sigmoid_keras2"

    @property
    def default_recurrent_activation(self) -> str:
        """hard_sigmoid before Keras 2.3, sigmoid since."""
        old = self.version is not None and self.version < (2, 3)
        return self.hard_sigmoid if old else SIGMOID

    @property
    def defaults(self) -> str:
        """Whose defaults those are: "Keras 2.2 defaults"."""
        if self.version is not None:
            return f"Keras {self.version[0]}.{self.version[1]} defaults"
        return "Keras 3 defaults" if self.major >= 3 else "Keras ≥ 2.3 defaults"


def read_keras_layers(path: Path) -> list[Layer]:
    """Every recurrent layer of a .keras archive, a .weights.h5 file or a Keras 2 .h5 file."""
    try:
        import h5py
    except ImportError:
        suffix = path.suffix.lower() if path.suffix.lower() in (".keras", ".h5") else ".keras"
        raise InputError(f"install gru-tui[keras] to read {suffix} files") from None
    configs: dict[str, dict] = {}
    version = None
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK"):
        data, config, version = _read_archive(path)
        configs = _layer_configs(config)
        source = io.BytesIO(data)
    elif head == HDF5_SIGNATURE:
        source = str(path)
    else:
        what = "a .keras archive (zip)" if path.suffix.lower() == ".keras" else "an HDF5 file"
        raise InputError(f"{path} is not {what}")
    try:
        handle = h5py.File(source, "r")
    except Exception as error:
        what = f"{path}: model.weights.h5" if isinstance(source, io.BytesIO) else str(path)
        raise InputError(f"{what} is not a readable HDF5 file ({first_line(error)})") from None
    budget = FileBudget(path)
    try:
        with handle:
            _check_links(path, handle, budget)
            if "layer_names" in handle.attrs or "model_weights" in handle:
                writer = Writer.of(handle.attrs.get("keras_version"), 2)
                found = _legacy_layers(path, handle)
            else:
                writer = Writer.of(version, 3)
                found = _keras3_layers(path, handle, configs, budget)
            _reserve(path, found, budget)
            layers = [_build(path, item, writer) for item in found]
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"{path} cannot be read ({first_line(error)})") from None
    if not layers and writer.major < 2:
        raise InputError(f"{path} was written by Keras {writer.version[0]}.{writer.version[1]}, "
                         "whose weight layout gru-tui does not read (Keras 2 and 3 files only)")
    if not layers:
        raise InputError(f"{path} holds no recurrent layer (no Keras GRU, LSTM or SimpleRNN)")
    return layers


def _check_links(path: Path, handle, budget: FileBudget) -> None:
    """Every link of the tree a hard link and every dataset stored in the file, checked
    before anything is followed: H5Lvisit reports links without following soft or external
    ones, and visits each group once."""
    import h5py

    problem = ""

    def check(name: str, link) -> str | None:
        nonlocal problem
        if budget.expired():  # an exception raised in here would not come out as it is
            return "out of time"
        if isinstance(link, h5py.ExternalLink):
            problem = f"{name} is an external link to {link.filename}:{link.path}"
        elif isinstance(link, h5py.SoftLink):
            problem = f"{name} is a soft link to {link.path}"
        elif not isinstance(link, h5py.HardLink):
            problem = f"{name} is a link of a kind HDF5 leaves to plugins"
        else:
            item = handle.get(name)
            if isinstance(item, h5py.Dataset) and (item.is_virtual or item.external):
                problem = f"{name} keeps its values in other files"
        return problem or None  # anything but None ends the walk

    handle.visititems_links(check)
    budget.check_time()
    if problem:
        raise InputError(f"{path}: {problem}, which gru-tui does not follow")


# -- the .keras archive ---------------------------------------------------------------------


def _read_archive(path: Path) -> tuple[bytes, dict, str | None]:
    """model.weights.h5 (bytes), config.json (a plain dict, {} when absent) and the
    keras_version of metadata.json."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "model.weights.h5" not in names:
                raise InputError(f"{path} is a zip without model.weights.h5, not a Keras 3 "
                                 ".keras archive")
            weights = _member(path, archive, "model.weights.h5", MAX_FILE_BYTES)
            config = _json_member(path, archive, "config.json") if "config.json" in names else {}
            metadata = (_json_member(path, archive, "metadata.json")
                        if "metadata.json" in names else {})
    except InputError:
        raise
    except Exception as error:  # BadZipFile, truncated members, CRC errors, OSError
        raise InputError(f"{path} is not a readable .keras archive ({first_line(error)})"
                         ) from None
    return weights, config, metadata.get("keras_version")


def _json_member(path: Path, archive: zipfile.ZipFile, name: str) -> dict:
    return _json_object(path, name, _member(path, archive, name, MAX_CONFIG_BYTES))


def _json_object(path: Path, name: str, text: str | bytes) -> dict:
    """A JSON object, as plain data."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError(f"{path}: {name} is nested too deeply") from None
    except ValueError as error:
        raise InputError(f"{path}: {name} is not valid JSON ({first_line(error)})") from None
    if not isinstance(value, dict):
        raise InputError(f"{path}: {name} is not a JSON object")
    return value


def _member(path: Path, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One member, refused when it says it is larger than `limit`; unpacked a chunk at a
    time, so memory stays at what it says (zipfile stops there, and checks the CRC)."""
    info = archive.getinfo(name)
    check_zip_member(path, info)
    if info.file_size > limit:
        raise InputError(f"{path}: {name} unpacks to {size_text(info.file_size)}; gru-tui reads "
                         f"up to {size_text(limit)}")
    data = bytearray()
    with archive.open(info) as member:
        while chunk := member.read(CHUNK_BYTES):
            data += chunk
    return bytes(data)


def _layer_configs(config) -> dict[str, dict]:
    """Every layer config found in config.json, by layer name: {"class_name", "config"}.

    Plain JSON walked as data; nothing is looked up or built from the class names.
    """
    found: dict[str, dict] = {}
    pending = [config]  # depth first, in the document's order, without recursion
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            inner = item.get("config")
            if isinstance(item.get("class_name"), str) and isinstance(inner, dict) \
                    and isinstance(inner.get("name"), str):
                found.setdefault(inner["name"], item)
            pending.extend(reversed(item.values()))
        elif isinstance(item, list):
            pending.extend(reversed(item))
    return found


# -- Keras 3: layers/<class>[_k]/cell/vars/<n> ----------------------------------------------


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _keras3_layers(path: Path, handle, configs: dict[str, dict],
                   budget: FileBudget) -> list[Found]:
    import h5py

    layers: list[Found] = []
    seen: set = set()  # groups already walked: a group linked twice is walked once

    def name_of(group, fallback: str) -> str:
        vars_group = group.get("vars")
        if isinstance(vars_group, h5py.Group):
            name = vars_group.attrs.get("name")
            if isinstance(name, bytes):
                name = name.decode("utf-8", errors="replace")
            if isinstance(name, str) and name:
                return name
        return fallback

    def visit(group, where: str, parent: str) -> None:
        if where.count("/") > MAX_DEPTH:
            raise InputError(f"{path}: {where} is nested more than {MAX_DEPTH} groups deep")
        for key in sorted(group.keys(), key=_natural):
            budget.check_time()
            child = group[key]  # every link is a hard link (_check_links)
            if not isinstance(child, h5py.Group) or child.id in seen:
                continue
            seen.add(child.id)
            at = f"{where}{key}"
            if "forward_layer" in child and "backward_layer" in child:
                wrapper = name_of(child, key)
                config = configs.get(wrapper, {}).get("config", {})
                for half, reverse in (("forward_layer", False), ("backward_layer", True)):
                    inner = child[half]
                    if not isinstance(inner, h5py.Group) or "cell" not in inner:
                        raise InputError(f"{path}: {at}/{half} is not a recurrent layer; "
                                         "gru-tui reads Bidirectional GRU, LSTM and SimpleRNN")
                    name = name_of(inner, half)
                    inner_config = configs.get(name) or (
                        config.get("layer") if half == "forward_layer" or
                        not config.get("backward_layer") else config.get("backward_layer"))
                    layers.append(_keras3_layer(path, inner, f"{at}/{half}",
                                                f"{parent}{wrapper}/{name}", inner_config,
                                                reverse))
            elif "cell" in child and isinstance(child["cell"], h5py.Group) \
                    and "vars" in child["cell"]:
                name = name_of(child, key)
                layers.append(_keras3_layer(path, child, at, parent + name,
                                            configs.get(name), None))
            elif key == "layers":  # a model's list of layers: no name of its own
                visit(child, f"{at}/", parent)
            elif key not in ("vars", "optimizer", "metrics"):  # a nested model, a subclassed
                visit(child, f"{at}/", parent + name_of(child, key) + "/")  # model's attribute

    visit(handle, "", "")
    return _in_model_order(layers, configs)


def _in_model_order(layers: list[Found], configs: dict[str, dict]) -> list[Found]:
    """The layers in config.json's order when there is one (h5py lists groups by name)."""
    order = {name: k for k, name in enumerate(configs)}
    return sorted(layers, key=lambda layer: order.get(layer.name.split("/")[0], len(order)))


def _keras3_layer(path: Path, group, where: str, name: str, config: dict | None,
                  reverse: bool | None) -> Found:
    cell_vars = group["cell"]["vars"]
    hint = cell_vars.attrs.get("name")
    if isinstance(hint, bytes):
        hint = hint.decode("utf-8", errors="replace")
    tensors = {}
    for number, role in enumerate(ROLES):
        if str(number) in cell_vars:
            tensors[role] = (f"{where}/cell/vars/{number} ({role})", cell_vars[str(number)])
    extra = sorted(set(cell_vars.keys()) - {"0", "1", "2"})
    if extra:
        raise InputError(f"{path}: {where}/cell/vars/{extra[0]} is an unexpected tensor; "
                         "gru-tui reads kernel, recurrent_kernel and bias")
    kind = CELL_KINDS.get(hint) if isinstance(hint, str) else None
    return Found(name, where, tensors, config, kind, reverse)


# -- Keras 2 (and Keras 3's legacy saver): layer_names / weight_names ------------------------


def _strings(values) -> list[str]:
    return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)
            for v in np.asarray(values).ravel()]


def _legacy_layers(path: Path, handle) -> list[Found]:
    import h5py

    configs: dict[str, dict] = {}
    raw = handle.attrs.get("model_config")
    if raw is not None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        configs = _layer_configs(_json_object(path, "model_config", text))
    root = handle.get("model_weights", handle)
    if not isinstance(root, h5py.Group) or "layer_names" not in root.attrs:
        raise InputError(f"{path} is an HDF5 file without Keras layer_names")
    layers: list[Found] = []
    for layer_name in _strings(root.attrs["layer_names"]):
        group = root.get(layer_name)
        if not isinstance(group, h5py.Group):
            raise InputError(f"{path}: layer {layer_name} is listed but missing")
        weight_names = _strings(group.attrs.get("weight_names", []))
        if not weight_names:
            continue
        entry = configs.get(layer_name, {})
        class_name = entry.get("class_name")
        config = entry.get("config", {}) if isinstance(entry.get("config"), dict) else {}
        by_owner: dict[str, dict[str, tuple[str, object]]] = {}
        cells: dict[str, str] = {}
        for weight_name in weight_names:
            parts = weight_name.split("/")
            role = parts[-1].split(":")[0]
            if role not in ROLES:
                continue  # not a recurrent layer's tensor: embeddings, gamma…
            # gru/gru_cell/kernel:0 (Keras 2), model/gru/gru_cell/kernel (Keras 3's legacy
            # saver), gru_1/kernel:0 (Keras 2.2): the owner is the path without its cell
            owner_parts = parts[:-1]
            if owner_parts and re.search(r"cell(_\d+)?$", owner_parts[-1]):
                cells.setdefault("/".join(owner_parts[:-1]), owner_parts[-1])
                owner_parts = owner_parts[:-1]
            owner = "/".join(owner_parts) or layer_name
            dataset = group.get(weight_name)  # every link is a hard link (_check_links)
            if dataset is None:
                raise InputError(f"{path}: {layer_name}/{weight_name} is listed but missing")
            by_owner.setdefault(owner, {})[role] = (f"{layer_name}/{weight_name}", dataset)
        owners = list(by_owner)
        last = {owner: owner.split("/")[-1] for owner in owners}
        bidirectional = class_name == "Bidirectional" or (len(owners) == 2 and all(
            last[o].startswith(("forward_", "backward_")) for o in owners))
        for owner in owners:
            if not (class_name in KINDS or bidirectional or "recurrent_kernel" in by_owner[owner]):
                continue  # a Dense, a Conv…: not a recurrent layer
            reverse = None
            if bidirectional:
                reverse = last[owner].startswith("backward_")
                half = config.get("backward_layer") if reverse and config.get(
                    "backward_layer") else config.get("layer")
                name, layer_config = f"{layer_name}/{last[owner]}", half
            elif len(owners) == 1:
                name, layer_config = layer_name, entry or None
            else:  # a nested model: its layers' own names
                name, layer_config = f"{layer_name}/{last[owner]}", configs.get(last[owner])
            kind = KINDS.get((layer_config or {}).get("class_name"))
            cell_name = re.sub(r"_\d+$", "", cells.get(owner, ""))
            kind = kind or CELL_KINDS.get(cell_name)
            layers.append(Found(name, layer_name, by_owner[owner], layer_config, kind,
                                reverse))
    return layers


# -- one layer ----------------------------------------------------------------------------


def _reserve(path: Path, found: list[Found], budget: FileBudget) -> None:
    """Every tensor of every layer a dataset of floats, and the sum of their declared sizes
    within the file's budget: checked before any is read."""
    import h5py

    for layer in found:
        for label, dataset in layer.tensors.values():
            if not isinstance(dataset, h5py.Dataset):
                raise InputError(f"{path}: {label} is not a tensor")
            if dataset.dtype.kind != "f":
                raise InputError(f"{path}: {label} holds {dataset.dtype} values, expected "
                                 "floats")
            budget.take(dataset.size * dataset.dtype.itemsize,
                        f"{label} of shape {dataset.shape}")


def _read(path: Path, label: str, dataset) -> np.ndarray:
    """A dataset as an array (its size already reserved), its values checked."""
    try:
        array = np.asarray(dataset[()])
    except Exception as error:
        raise InputError(f"{path}: {label} cannot be read ({first_line(error)})") from None
    check_values(path, label, array)
    return array


def _build(path: Path, layer: Found, writer: Writer) -> Layer:
    """One layer; `reverse` None: from the config's go_backwards (a Bidirectional's halves
    say their own direction, their go_backwards being how Keras runs the backward one)."""
    name, where, found, config, kind, reverse = layer
    options = config.get("config", {}) if isinstance(config, dict) else {}
    if not isinstance(options, dict):
        options = {}
    class_name = config.get("class_name") if isinstance(config, dict) else None
    kind = KINDS.get(class_name) or CUDNN_KINDS.get(class_name) or kind
    cudnn = class_name in CUDNN_KINDS
    for role in ("kernel", "recurrent_kernel"):
        if role not in found:
            raise InputError(f"{path}: layer {name} has no {role} ({where})")
    labels = {role: label for role, (label, _) in found.items()}
    arrays = {role: _read(path, label, dataset) for role, (label, dataset) in found.items()}
    kernel, recurrent = arrays["kernel"], arrays["recurrent_kernel"]
    if kernel.ndim != 2:
        raise InputError(f"{path}: {labels['kernel']} has shape {kernel.shape}, expected "
                         "(D, g·H)")
    columns = kernel.shape[1]
    if kind is None:  # from the shapes: g·H columns, H rows of the recurrent kernel
        H = recurrent.shape[0] if recurrent.ndim == 2 and recurrent.shape[0] else 0
        g = columns // H if H and columns % H == 0 else 0
        if g not in KIND_BY_GATE_COUNT:
            raise InputError(f"{path}: {labels['recurrent_kernel']} has shape "
                             f"{recurrent.shape}, which fits no GRU, LSTM or SimpleRNN next "
                             f"to a kernel of shape {kernel.shape}")
        kind = KIND_BY_GATE_COUNT[g]
    g = gate_count(kind)
    if columns % g:
        raise InputError(f"{path}: {labels['kernel']} has shape {kernel.shape}, expected "
                         f"({kernel.shape[0]}, {g}·H) for a {kind}")
    H = columns // g
    if recurrent.shape != (H, columns):
        raise InputError(f"{path}: {labels['recurrent_kernel']} has shape {recurrent.shape}, "
                         f"expected ({H}, {columns})")
    units = options.get("units")
    if isinstance(units, int) and not isinstance(units, bool) and units != H:
        raise InputError(f"{path}: layer {name}: the config says units {units}, its tensors "
                         f"hold {H}")
    tensors = {"weight_ih": kernel.T, "weight_hh": recurrent.T}
    reset = "after"
    if "bias" in arrays:
        bias = arrays["bias"]
        if kind == "gru" and bias.shape == (2, columns) and not cudnn:
            tensors["bias_ih"], tensors["bias_hh"] = bias[0], bias[1]
        elif bias.shape == (columns,) and not cudnn:
            tensors["bias_ih"] = bias
            tensors["bias_hh"] = np.zeros_like(bias)
            reset = "before"
        elif kind != "rnn" and bias.shape == (2 * columns,) and class_name in (None, *CUDNN_KINDS):
            cudnn = True  # CuDNNGRU / CuDNNLSTM: input biases, then recurrent ones
            tensors["bias_ih"], tensors["bias_hh"] = bias[:columns], bias[columns:]
        else:
            expected = (f"({2 * columns},)" if cudnn else
                        f"({columns},) or (2, {columns})" if kind == "gru" else f"({columns},)")
            raise InputError(f"{path}: {labels['bias']} has shape {bias.shape}, expected "
                             f"{expected}")
    elif "reset_after" in options:  # no bias: only the config can say
        reset = "after" if options["reset_after"] else "before"
    if kind == "gru" and "reset_after" in options and "bias" in arrays \
            and bool(options["reset_after"]) != (reset == "after"):
        raise InputError(f"{path}: layer {name}: reset_after {options['reset_after']} does not "
                         f"match its bias of shape {arrays['bias'].shape}")
    if reverse is None:
        reverse = bool(options.get("go_backwards"))
    if cudnn:  # cuDNN's gates are σ, its candidate tanh: nothing to say or assume
        recurrent_activation, assumed = SIGMOID, ""
    else:
        recurrent_activation, assumed = _activations(path, name, kind, options, writer)
    notes = [{"gru": f"reset {reset}", "lstm": "standard", "rnn": "tanh"}[kind]]
    if recurrent_activation != SIGMOID:
        notes.append(RECURRENT_ACTIVATIONS[recurrent_activation].origin)
    if cudnn:
        notes.append(next(cls for cls, cudnn_kind in CUDNN_KINDS.items() if cudnn_kind == kind))
    return Layer(
        name=name, kind=kind, direction="reverse" if reverse else "forward",
        input_size=kernel.shape[0], hidden_size=H, convention=", ".join(notes),
        parameters=sum(int(a.size) for a in arrays.values()), path=str(path),
        tensors=tensors, order=TABLES[kind].order("keras"), reset=reset, framework="Keras",
        recurrent_activation=recurrent_activation, activations_assumed=assumed,
        hard_sigmoid=writer.hard_sigmoid,
    )


def _activations(path: Path, name: str, kind: str, options: dict,
                 writer: Writer) -> tuple[str, str]:
    """The gates' recurrent activation (the engine's name) and, when the config does not say
    the activations, whose defaults gave them ("" when it does)."""
    activation = options.get("activation", "tanh")
    if activation != "tanh":
        raise _unsupported(path, name, "activation", activation, "tanh")
    if kind == "rnn":
        return SIGMOID, "" if "activation" in options else writer.defaults
    value = options.get("recurrent_activation")
    choices = {None: writer.default_recurrent_activation, "sigmoid": SIGMOID,
               "hard_sigmoid": writer.hard_sigmoid}
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise _unsupported(path, name, "recurrent_activation", value, "sigmoid or hard_sigmoid")
    stated = "activation" in options and value is not None
    return choices[value], "" if stated else writer.defaults


def _unsupported(path: Path, name: str, option: str, value, runs: str) -> InputError:
    shown = value if isinstance(value, str) else (
        value.get("class_name", "a custom object") if isinstance(value, dict) else repr(value))
    return InputError(f"{path}: layer {name}: {option} {shown} is not supported; gru-tui runs "
                      f"{runs}")
