"""The GRU / LSTM / RNN nodes of an ONNX model as :class:`~gru_tui.io.layers.Layer` records.

The model is read with ``onnx.load`` (a protobuf: nothing in it is executed). A node's W, R,
and optionally B, P, initial_h and initial_c must be stored in the file, as initializers or Constant
nodes; an input computed at run time is refused. ONNX stacks W [dirs, g·H, D],
R [dirs, g·H, H], B [dirs, 2·g·H] (input biases, then recurrent ones) and P [dirs, 3·H] with
gate rows z, r, h (GRU), i, o, f, c (LSTM) and peepholes i, o, f. A bidirectional node gives
two layers, "<node>" and "<node>_reverse" (a node of direction "reverse" gives one reverse
layer named "<node>"); an unnamed node is "node<k>", k counting the graph's nodes from 0.

Only the equations gru-tui runs are accepted: the default activations (σ and tanh), no clip,
no input_forget. A GRU's reset placement follows linear_before_reset (0: before U_n, 1:
after); its update gate weights the old state. layout only moves X and Y, not the weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gru_tui.engine.gates import TABLES, gate_count
from gru_tui.errors import InputError
from gru_tui.io.layers import Layer, check_values, first_line

KINDS = {"GRU": "gru", "LSTM": "lstm", "RNN": "rnn"}  # ONNX's operators
ACTIVATIONS = {"GRU": ("Sigmoid", "Tanh"), "LSTM": ("Sigmoid", "Tanh", "Tanh"),
               "RNN": ("Tanh",)}
DIRECTIONS = ("forward", "reverse", "bidirectional")
# The node's inputs by position (the LSTM alone has initial_c and P).
POSITIONS = {"W": 1, "R": 2, "B": 3, "initial_h": 5, "initial_c": 6, "P": 7}


def read_onnx_layers(path: Path) -> list[Layer]:
    """Every recurrent layer of the GRU / LSTM / RNN nodes of an .onnx model."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise InputError("install gru-tui[onnx] to read .onnx files") from None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:
        raise InputError(f"{path} is not a readable ONNX model ({first_line(error)})"
                         ) from None
    graph = model.graph
    stored = {tensor.name: tensor for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and node.output:
            value = next((a.t for a in node.attribute if a.name == "value"), None)
            if value is not None:
                stored[node.output[0]] = value

    def array(tensor) -> np.ndarray:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise InputError(f"{path}: tensor {tensor.name} is kept in an external data file, "
                             "which gru-tui does not read")
        try:
            return numpy_helper.to_array(tensor)
        except Exception as error:
            raise InputError(f"{path}: tensor {tensor.name} cannot be read "
                             f"({first_line(error)})") from None

    layers: list[Layer] = []
    for k, node in enumerate(graph.node):
        if node.op_type in KINDS and node.domain in ("", "ai.onnx"):
            layers.extend(_node_layers(path, node, node.name or f"node{k}", stored, array))
    if not layers:
        raise InputError(f"{path} holds no recurrent layer (no GRU, LSTM or RNN node)")
    return layers


def _attributes(node) -> dict:
    from onnx import helper

    values = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v
                     for v in value]
        values[attribute.name] = value
    return values


def _check_attributes(path: Path, op: str, label: str, attrs: dict) -> tuple[str, int]:
    """The node's direction and linear_before_reset; anything gru-tui cannot run refused."""
    where = f"{path}: node {label}"
    direction = attrs.get("direction", "forward")
    if direction not in DIRECTIONS:
        raise InputError(f"{where}: direction {direction!r} is not one of "
                         f"{', '.join(DIRECTIONS)}")
    layout = attrs.get("layout", 0)
    if layout not in (0, 1):
        raise InputError(f"{where}: layout {layout} is not 0 or 1")
    default = ACTIVATIONS[op]
    activations = attrs.get("activations")
    if activations:
        odd = [name for n, name in enumerate(activations)
               if name.lower() != default[n % len(default)].lower()]
        if odd or len(activations) % len(default):
            shown = ", ".join(odd) if odd else ", ".join(activations)
            raise InputError(f"{where}: activations {shown} are not supported; gru-tui runs "
                             f"σ and tanh ({', '.join(default)} per direction)")
    for name in ("activation_alpha", "activation_beta"):
        if attrs.get(name):
            raise InputError(f"{where}: {name} is not supported; gru-tui runs σ and tanh "
                             "without parameters")
    if "clip" in attrs:
        raise InputError(f"{where}: clip {attrs['clip']:g} is not supported; gru-tui does not "
                         "clip pre-activations")
    if attrs.get("input_forget", 0) != 0:
        raise InputError(f"{where}: input_forget {attrs['input_forget']} is not supported; "
                         "gru-tui runs the standard LSTM")
    linear_before_reset = attrs.get("linear_before_reset", 0)
    if linear_before_reset not in (0, 1):
        raise InputError(f"{where}: linear_before_reset {linear_before_reset} is not 0 or 1")
    return direction, linear_before_reset


def _node_layers(path: Path, node, label: str, stored: dict, array) -> list[Layer]:
    op = node.op_type
    where = f"{path}: node {label}"
    attrs = _attributes(node)
    direction, linear_before_reset = _check_attributes(path, op, label, attrs)
    dirs = 2 if direction == "bidirectional" else 1
    kind = KINDS[op]
    g = gate_count(kind)

    def tensor(role: str, required: bool) -> np.ndarray | None:
        position = POSITIONS[role]
        name = node.input[position] if len(node.input) > position else ""
        if not name:
            if required:
                raise InputError(f"{where}: {role} is missing")
            return None
        if name not in stored:
            raise InputError(f"{where}: {role} is computed at run time, not stored")
        value = array(stored[name])
        check_values(path, f"node {label}: {role} ({name})", value)
        return value

    W, R = tensor("W", True), tensor("R", True)
    B = tensor("B", False)
    P = tensor("P", False) if op == "LSTM" else None
    h0 = tensor("initial_h", False)
    c0 = tensor("initial_c", False) if op == "LSTM" else None

    def shape_error(role: str, value: np.ndarray, expected: str) -> InputError:
        return InputError(f"{where}: {role} has shape {value.shape}, expected {expected}")

    H = attrs.get("hidden_size")
    if H is None:  # optional in ONNX: R's columns
        H = R.shape[-1] if R.ndim == 3 else 0
    if not isinstance(H, int) or H < 1:
        raise InputError(f"{where}: hidden_size {H} is not a positive integer")
    if W.ndim != 3 or W.shape[:2] != (dirs, g * H):
        raise shape_error("W", W, f"({dirs}, {g * H}, D)")
    D = W.shape[2]
    if R.shape != (dirs, g * H, H):
        raise shape_error("R", R, f"({dirs}, {g * H}, {H})")
    if B is not None and B.shape != (dirs, 2 * g * H):
        raise shape_error("B", B, f"({dirs}, {2 * g * H})")
    if P is not None and P.shape != (dirs, 3 * H):
        raise shape_error("P", P, f"({dirs}, {3 * H})")
    layout = attrs.get("layout", 0)

    def state(role: str, value: np.ndarray | None) -> np.ndarray | None:
        """initial_h / initial_c as [dirs, batch, H], whatever the layout."""
        if value is None:
            return None
        if value.ndim != 3 or value.shape[2] != H or value.shape[layout] != dirs:
            raise shape_error(role, value,
                              f"({dirs}, batch, {H})" if layout == 0 else f"(batch, {dirs}, {H})")
        return value if layout == 0 else value.transpose(1, 0, 2)

    h0, c0 = state("initial_h", h0), state("initial_c", c0)

    reset = "after" if linear_before_reset else "before"
    if kind == "gru":
        convention = f"reset {reset}"
    elif kind == "lstm":
        convention = "peepholes" if P is not None else "standard"
    else:
        convention = "tanh"
    stored = [role for role, value in (("initial_h", h0), ("initial_c", c0)) if value is not None]
    if stored:
        convention += f", {' and '.join(stored)} stored"
    layers = []
    for d in range(dirs):
        reverse = direction == "reverse" or d == 1
        tensors = {"weight_ih": W[d], "weight_hh": R[d]}
        if B is not None:
            tensors["bias_ih"], tensors["bias_hh"] = B[d, : g * H], B[d, g * H :]
        if P is not None:
            tensors["peepholes"] = P[d]
        layers.append(Layer(
            name=label + ("_reverse" if d == 1 else ""), kind=kind,
            direction="reverse" if reverse else "forward", input_size=D, hidden_size=H,
            convention=convention,
            parameters=sum(int(t[d].size) for t in (W, R, B, P) if t is not None),
            path=str(path), tensors=tensors, order=TABLES[kind].order("onnx"), reset=reset,
            framework="ONNX",
            initial_h=None if h0 is None else h0[d],
            initial_c=None if c0 is None else c0[d],
        ))
    return layers
