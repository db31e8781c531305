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
first, as does the backward half of a Bidirectional wrapper.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from gru_tui.engine.gates import KIND_BY_GATE_COUNT, TABLES, gate_count
from gru_tui.errors import InputError
from gru_tui.io.layers import MAX_FILE_BYTES, Layer, check_values, first_line, size_text

KINDS = {"GRU": "gru", "LSTM": "lstm", "SimpleRNN": "rnn"}
CELL_KINDS = {"gru_cell": "gru", "lstm_cell": "lstm", "simple_rnn_cell": "rnn",
              "GRUCell": "gru", "LSTMCell": "lstm", "SimpleRNNCell": "rnn"}
DEFAULT_ACTIVATIONS = {"gru": {"activation": "tanh", "recurrent_activation": "sigmoid"},
                       "lstm": {"activation": "tanh", "recurrent_activation": "sigmoid"},
                       "rnn": {"activation": "tanh"}}
ROLES = ("kernel", "recurrent_kernel", "bias")
MAX_CONFIG_BYTES = 16 << 20
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def read_keras_layers(path: Path) -> list[Layer]:
    """Every recurrent layer of a .keras archive, a .weights.h5 file or a Keras 2 .h5 file."""
    try:
        import h5py
    except ImportError:
        suffix = path.suffix.lower() if path.suffix.lower() in (".keras", ".h5") else ".keras"
        raise InputError(f"install gru-tui[keras] to read {suffix} files") from None
    configs: dict[str, dict] = {}
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK"):
        data, config = _read_archive(path)
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
    try:
        with handle:
            if "layer_names" in handle.attrs or "model_weights" in handle:
                layers = _legacy_layers(path, handle)
            else:
                layers = _keras3_layers(path, handle, configs)
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"{path} cannot be read ({first_line(error)})") from None
    if not layers:
        raise InputError(f"{path} holds no recurrent layer (no Keras GRU, LSTM or SimpleRNN)")
    return layers


# -- the .keras archive ---------------------------------------------------------------------


def _read_archive(path: Path) -> tuple[bytes, dict]:
    """model.weights.h5 (bytes) and config.json (a plain dict, {} when absent)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "model.weights.h5" not in names:
                raise InputError(f"{path} is a zip without model.weights.h5, not a Keras 3 "
                                 ".keras archive")
            weights = _member(path, archive, "model.weights.h5", MAX_FILE_BYTES)
            config = {}
            if "config.json" in names:
                text = _member(path, archive, "config.json", MAX_CONFIG_BYTES)
                try:
                    config = json.loads(text)
                except ValueError as error:
                    raise InputError(f"{path}: config.json is not valid JSON "
                                     f"({first_line(error)})") from None
                if not isinstance(config, dict):
                    raise InputError(f"{path}: config.json is not a JSON object")
    except InputError:
        raise
    except Exception as error:  # BadZipFile, truncated members, CRC errors, OSError
        raise InputError(f"{path} is not a readable .keras archive ({first_line(error)})"
                         ) from None
    return weights, config


def _member(path: Path, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One member, refused when it says or turns out to be larger than `limit`."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise InputError(f"{path}: {name} unpacks to {size_text(info.file_size)}; gru-tui reads "
                         f"up to {size_text(limit)}")
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: {name} unpacks to more than {size_text(limit)}; gru-tui reads "
                         f"up to {size_text(limit)}")
    return data


def _layer_configs(config) -> dict[str, dict]:
    """Every layer config found in config.json, by layer name: {"class_name", "config"}.

    Plain JSON walked as data; nothing is looked up or built from the class names.
    """
    found: dict[str, dict] = {}

    def walk(item) -> None:
        if isinstance(item, dict):
            inner = item.get("config")
            if isinstance(item.get("class_name"), str) and isinstance(inner, dict) \
                    and isinstance(inner.get("name"), str):
                found.setdefault(inner["name"], item)
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(config)
    return found


# -- Keras 3: layers/<class>[_k]/cell/vars/<n> ----------------------------------------------


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _keras3_layers(path: Path, handle, configs: dict[str, dict]) -> list[Layer]:
    import h5py

    layers: list[Layer] = []

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
        for key in sorted(group.keys(), key=_natural):
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise InputError(f"{path}: {where}{key} is a link, which gru-tui does not "
                                 "follow")
            child = group[key]
            if not isinstance(child, h5py.Group):
                continue
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


def _in_model_order(layers: list[Layer], configs: dict[str, dict]) -> list[Layer]:
    """The layers in config.json's order when there is one (h5py lists groups by name)."""
    order = {name: k for k, name in enumerate(configs)}
    return sorted(layers, key=lambda layer: order.get(layer.name.split("/")[0], len(order)))


def _keras3_layer(path: Path, group, where: str, name: str, config: dict | None,
                  reverse: bool | None) -> Layer:
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
    return _build(path, name, where, tensors, config, kind, reverse)


# -- Keras 2 (and Keras 3's legacy saver): layer_names / weight_names ------------------------


def _strings(values) -> list[str]:
    return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)
            for v in np.asarray(values).ravel()]


def _legacy_layers(path: Path, handle) -> list[Layer]:
    import h5py

    configs: dict[str, dict] = {}
    raw = handle.attrs.get("model_config")
    if raw is not None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        try:
            configs = _layer_configs(json.loads(text))
        except ValueError:
            raise InputError(f"{path}: model_config is not valid JSON") from None
    root = handle.get("model_weights", handle)
    if not isinstance(root, h5py.Group) or "layer_names" not in root.attrs:
        raise InputError(f"{path} is an HDF5 file without Keras layer_names")
    layers: list[Layer] = []
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
            link = group.get(weight_name, getlink=True)
            if link is None or group.get(weight_name) is None:
                raise InputError(f"{path}: {layer_name}/{weight_name} is listed but missing")
            if isinstance(link, h5py.ExternalLink):
                raise InputError(f"{path}: {layer_name}/{weight_name} is a link, which gru-tui "
                                 "does not follow")
            by_owner.setdefault(owner, {})[role] = (f"{layer_name}/{weight_name}",
                                                    group[weight_name])
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
            layers.append(_build(path, name, layer_name, by_owner[owner], layer_config, kind,
                                 reverse))
    return layers


# -- one layer ----------------------------------------------------------------------------


def _read(path: Path, label: str, dataset) -> np.ndarray:
    """A dataset as an array, checked before reading (dtype, size, storage) and after."""
    import h5py

    if not isinstance(dataset, h5py.Dataset):
        raise InputError(f"{path}: {label} is not a tensor")
    if dataset.dtype.kind != "f":
        raise InputError(f"{path}: {label} holds {dataset.dtype} values, expected floats")
    if dataset.external or dataset.is_virtual:
        raise InputError(f"{path}: {label} keeps its values outside the file, which gru-tui "
                         "does not read")
    if dataset.size * dataset.dtype.itemsize > MAX_FILE_BYTES:
        raise InputError(f"{path}: {label} has shape {dataset.shape}, more than gru-tui reads")
    try:
        array = np.asarray(dataset[()])
    except Exception as error:
        raise InputError(f"{path}: {label} cannot be read ({first_line(error)})") from None
    check_values(path, label, array)
    return array


def _build(path: Path, name: str, where: str, found: dict[str, tuple[str, object]],
           config: dict | None, kind: str | None, reverse: bool | None) -> Layer:
    """One layer; `reverse` None: from the config's go_backwards (a Bidirectional's halves
    say their own direction, their go_backwards being how Keras runs the backward one)."""
    options = config.get("config", {}) if isinstance(config, dict) else {}
    if not isinstance(options, dict):
        options = {}
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name in KINDS:
        kind = KINDS[class_name]
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
    for option, default in DEFAULT_ACTIVATIONS[kind].items():
        value = options.get(option, default)
        if value != default:
            shown = value if isinstance(value, str) else (
                value.get("class_name", "a custom object") if isinstance(value, dict)
                else repr(value))
            raise InputError(f"{path}: layer {name}: {option} {shown} is not supported; "
                             f"gru-tui runs {default}")
    tensors = {"weight_ih": kernel.T, "weight_hh": recurrent.T}
    reset = "after"
    if "bias" in arrays:
        bias = arrays["bias"]
        if kind == "gru" and bias.shape == (2, columns):
            tensors["bias_ih"], tensors["bias_hh"] = bias[0], bias[1]
        elif bias.shape == (columns,):
            tensors["bias_ih"] = bias
            tensors["bias_hh"] = np.zeros_like(bias)
            reset = "before"
        else:
            expected = f"({columns},) or (2, {columns})" if kind == "gru" else f"({columns},)"
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
    convention = {"gru": f"reset {reset}", "lstm": "standard", "rnn": "tanh"}[kind]
    return Layer(
        name=name, kind=kind, direction="reverse" if reverse else "forward",
        input_size=kernel.shape[0], hidden_size=H, convention=convention,
        parameters=sum(int(a.size) for a in arrays.values()), path=str(path),
        tensors=tensors, order=TABLES[kind].order("keras"), reset=reset, framework="Keras",
    )
