"""Keras files written with h5py in the exact layouts Keras writes (checked against files
Keras 3.15.1 saved: tests/fixtures/), and Keras' equations written out in numpy.

Keras 3 (``.weights.h5``, and ``model.weights.h5`` inside a ``.keras`` zip):
    layers/<class>[_k]/vars                 attrs name = the layer's name, no datasets
    layers/<class>[_k]/cell/vars/0, 1, 2    kernel, recurrent_kernel, bias
    layers/bidirectional/forward_layer/…, backward_layer/…
    vars                                    attrs name = the model's name
Keras 2 (``.h5``): ``model_weights`` (whole model, ``model_config`` attr) or the root
(weights only) lists ``layer_names``; each layer group lists ``weight_names`` such as
``gru/gru_cell/kernel:0`` and holds the datasets at those paths.
"""

from __future__ import annotations

import io
import json
import zipfile

import h5py
import numpy as np

GATES = {"gru": 3, "lstm": 4, "rnn": 1}
CLASSES = {"gru": "GRU", "lstm": "LSTM", "rnn": "SimpleRNN"}
GROUPS = {"gru": "gru", "lstm": "lstm", "rnn": "simple_rnn"}
CELLS = {"gru": "gru_cell", "lstm": "lstm_cell", "rnn": "simple_rnn_cell"}


def weights(kind, D, H, seed=0, reset_after=True, bias=True, dtype=np.float32):
    """[kernel (D, gH), recurrent_kernel (H, gH), bias] drawn uniform(-1, 1)."""
    rng = np.random.default_rng(seed)
    gH = GATES[kind] * H
    arrays = [rng.uniform(-1, 1, (D, gH)).astype(dtype), rng.uniform(-1, 1, (H, gH)).astype(dtype)]
    if bias:
        shape = (2, gH) if kind == "gru" and reset_after else (gH,)
        arrays.append(rng.uniform(-1, 1, shape).astype(dtype))
    return arrays


def layer_config(kind, name, **options):
    config = {"name": name, "units": None, "activation": "tanh", "use_bias": True,
              "go_backwards": False, "return_sequences": True}
    if kind != "rnn":
        config["recurrent_activation"] = "sigmoid"
    config.update(options)
    return {"module": "keras.layers", "class_name": CLASSES[kind], "config": config,
            "registered_name": None}


def model_config(layers: list[dict], name="sequential"):
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": name, "trainable": True, "layers": [
                {"module": "keras.layers", "class_name": "InputLayer",
                 "config": {"batch_shape": [None, 6, 3], "name": "input_layer"}}, *layers]}}


def write_keras3_h5(target, layers):
    """`layers`: (kind, name, arrays) or ("bidirectional", name, (kind, fwd, bwd)); written
    under class-name groups numbered as Keras numbers them."""
    used: dict[str, int] = {}
    with h5py.File(target, "w") as handle:
        handle.create_group("vars").attrs["name"] = "sequential"
        root = handle.create_group("layers")
        for kind, name, arrays in layers:
            group_name = "bidirectional" if kind == "bidirectional" else GROUPS[kind]
            if group_name in used:
                used[group_name] += 1
                group_name = f"{group_name}_{used[group_name]}"
            else:
                used[group_name] = 0
            group = root.create_group(group_name)
            group.create_group("vars").attrs["name"] = name
            if kind == "bidirectional":
                inner, forward, backward = arrays
                for half, prefix, values in (("forward_layer", "forward_", forward),
                                             ("backward_layer", "backward_", backward)):
                    sub = group.create_group(half)
                    sub.create_group("vars").attrs["name"] = prefix + GROUPS[inner]
                    _cell(sub, inner, values)
            else:
                _cell(group, kind, arrays)


def _cell(group, kind, arrays):
    cell_vars = group.create_group("cell").create_group("vars")
    cell_vars.attrs["name"] = CELLS[kind]
    for number, array in enumerate(arrays):
        cell_vars.create_dataset(str(number), data=array)


def keras3_bytes(layers) -> bytes:
    buffer = io.BytesIO()
    write_keras3_h5(buffer, layers)
    return buffer.getvalue()


def write_keras_archive(path, layers, config=None, weights_bytes=None, members=None):
    """A .keras zip: metadata.json, config.json, model.weights.h5 (as Keras 3 writes it)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        if config is not None:
            archive.writestr("config.json", json.dumps(config))
        if weights_bytes is None and layers is not None:
            weights_bytes = keras3_bytes(layers)
        if weights_bytes is not None:
            archive.writestr("model.weights.h5", weights_bytes)
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return path


def claim_size(path, member: str, size: int) -> None:
    """Patch the central directory so `member` says it unpacks to `size` bytes."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_length].decode() == member:
            data[at + 24:at + 28] = size.to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def write_keras2_h5(path, layers, whole_model=True, config=None, suffix=":0",
                    keras_version="2.15.0", cell_level=True):
    """`layers`: (kind, name, arrays), ("bidirectional", name, (kind, fwd, bwd)) or
    ("dense", name, [kernel, bias]), in Keras 2's naming: tf.keras' gru/gru_cell/kernel:0,
    or without the cell level (`cell_level` False) Keras 2.2's gru_1/kernel:0, which is also
    how every Keras 2 names a CuDNNGRU's and CuDNNLSTM's tensors (cu_dnngru_1/kernel:0)."""
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = keras_version.encode()  # Keras 2 writes bytes
        handle.attrs["backend"] = b"tensorflow"
        if whole_model:
            handle.attrs["model_config"] = json.dumps(config or {"class_name": "Sequential",
                                                                 "config": {"layers": []}})
            root = handle.create_group("model_weights")
        else:
            root = handle
        root.attrs["layer_names"] = np.array([name.encode() for _, name, _ in layers])
        for kind, name, arrays in layers:
            group = root.create_group(name)
            names = []
            if kind == "dense":
                entries = [(f"{name}/{role}{suffix}", a) for role, a in zip(("kernel", "bias"),
                                                                            arrays, strict=False)]
            elif kind == "bidirectional":
                inner, forward, backward = arrays
                entries = []
                for prefix, values in (("forward_", forward), ("backward_", backward)):
                    owner = f"{name}/{prefix}{GROUPS.get(inner, inner)}"
                    if cell_level:
                        owner += f"/{CELLS[inner]}"
                    entries += [(f"{owner}/{role}{suffix}", a) for role, a in
                                zip(("kernel", "recurrent_kernel", "bias"), values,
                                    strict=False)]
            else:
                owner = f"{name}/{CELLS[kind]}" if cell_level else name
                entries = [(f"{owner}/{role}{suffix}", a) for role, a in
                           zip(("kernel", "recurrent_kernel", "bias"), arrays, strict=False)]
            for weight_name, array in entries:
                group.create_dataset(weight_name, data=array)
                names.append(weight_name.encode())
            group.attrs["weight_names"] = np.array(names)
    return path


# -- Keras' equations, written out (keras/src/layers/rnn/*.py in words) ---------------------


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def hard_sigmoid_keras2(v):  # keras/backend.py (Keras 2, tf.keras): clip(0.2·x + 0.5, 0, 1)
    return np.clip(0.2 * v + 0.5, 0.0, 1.0)


def hard_sigmoid_keras3(v):  # keras/src/activations (Keras 3): relu6(x + 3) / 6
    return np.minimum(np.maximum(v + 3.0, 0.0), 6.0) / 6.0


def keras_run(kind, arrays, xs, reset_after=True, go_backwards=False, recurrent_activation=sigmoid):
    """The sequence a Keras layer returns (return_sequences=True), in float64.

    A bias of 2·g·H values is Keras 2's CuDNNGRU / CuDNNLSTM layout: the input biases, then
    the recurrent ones (cuDNN's GRU resets after, as reset_after=True does).
    """
    kernel, recurrent = (np.asarray(a, np.float64) for a in arrays[:2])
    H = recurrent.shape[0]
    bias = np.asarray(arrays[2], np.float64) if len(arrays) > 2 else None
    if bias is not None and bias.shape == (2 * kernel.shape[1],):  # cuDNN's two biases
        bias = bias.reshape(2, -1) if kind == "gru" else bias[: 4 * H] + bias[4 * H :]
    sigmoid = recurrent_activation
    xs = np.asarray(xs, np.float64)[::-1] if go_backwards else np.asarray(xs, np.float64)
    h, c, out = np.zeros(H), np.zeros(H), []
    for x in xs:
        if kind == "rnn":
            h = np.tanh(x @ kernel + h @ recurrent + (0 if bias is None else bias))
        elif kind == "lstm":
            v = x @ kernel + h @ recurrent + (0 if bias is None else bias)
            i, f, g, o = (v[k * H:(k + 1) * H] for k in range(4))  # columns i, f, c, o
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:  # columns z, r, h
            b_in, b_rec = (bias[0], bias[1]) if bias is not None and bias.ndim == 2 else (
                bias if bias is not None else np.zeros(3 * H), np.zeros(3 * H))
            xz = x @ kernel + b_in
            if reset_after:
                hz = h @ recurrent + b_rec
                z = sigmoid(xz[:H] + hz[:H])
                r = sigmoid(xz[H:2 * H] + hz[H:2 * H])
                n = np.tanh(xz[2 * H:] + r * hz[2 * H:])
            else:
                z = sigmoid(xz[:H] + h @ recurrent[:, :H])
                r = sigmoid(xz[H:2 * H] + h @ recurrent[:, H:2 * H])
                n = np.tanh(xz[2 * H:] + (r * h) @ recurrent[:, 2 * H:])
            h = z * h + (1 - z) * n
        out.append(h)
    return np.array(out)
