"""The GRU / LSTM / RNN nodes of an ONNX model as :class:`~gru_tui.io.layers.Layer` records.

The model is read with ``onnx.load`` (a protobuf: nothing in it is executed). A node's W, R,
and optionally B, P, initial_h and initial_c must be known without running the model:
initializers, Constant nodes, or values computed from those alone (the Slice, Concat,
Unsqueeze… by which PyTorch exports nn.LSTM), which are folded: :class:`_Folder` evaluates
just that constant subgraph with onnx's reference evaluator, one node at a time, each node's
output size predicted and counted against the file's budget before it runs. W, R, B or P
that depend on a graph input are refused; initial_h and initial_c that do (a streaming
model's state) leave runs to start from zeros.

ONNX stacks W [dirs, g·H, D], R [dirs, g·H, H], B [dirs, 2·g·H] (input biases, then
recurrent ones) and P [dirs, 3·H] with gate rows z, r, h (GRU), i, o, f, c (LSTM) and
peepholes i, o, f. A bidirectional node gives two layers, "<node>" and "<node>_reverse" (a
node of direction "reverse" gives one reverse layer named "<node>"); an unnamed node is
"node<k>", k counting its graph's nodes from 0. Nodes inside If / Loop / Scan bodies (any
graph attribute) are found too, named by their path: "<If node>/then_branch/<node>".

Only the equations gru-tui runs are accepted: the default activations (σ and tanh), no clip,
no input_forget; every attribute must have the type ONNX gives it. A GRU's reset placement
follows linear_before_reset (0: before U_n, 1: after); its update gate weights the old state.
layout only moves X and Y (and the initial states' axes), not the weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gru_tui.engine.gates import TABLES, gate_count
from gru_tui.errors import InputError
from gru_tui.io.layers import FileBudget, Layer, check_values, first_line

KINDS = {"GRU": "gru", "LSTM": "lstm", "RNN": "rnn"}  # ONNX's operators
DOMAINS = ("", "ai.onnx")
ACTIVATIONS = {"GRU": ("Sigmoid", "Tanh"), "LSTM": ("Sigmoid", "Tanh", "Tanh"),
               "RNN": ("Tanh",)}
DIRECTIONS = ("forward", "reverse", "bidirectional")
# The node's inputs by position (the LSTM alone has initial_c and P).
POSITIONS = {"W": 1, "R": 2, "B": 3, "initial_h": 5, "initial_c": 6, "P": 7}
MAX_DEPTH = 32  # graphs inside graphs
VALUE_BYTES = 8  # a folded value's bytes per element, at most (float64, int64)

# The operators folded, by how large their output can be (in elements), known before they
# run: as their first input, at most their inputs' sum, by broadcasting, or by the values
# of their inputs (shapes, repeats, ranges).
AS_LARGE_AS_FIRST = {"Identity", "Cast", "CastLike", "Squeeze", "Unsqueeze", "Reshape",
                     "Flatten", "Transpose", "Slice", "Split", "Neg", "Abs", "Sqrt",
                     "Reciprocal"}
REDUCING = {"ReduceSum", "ReduceMean", "ReduceL2", "ReduceMax", "ReduceMin"}
BROADCASTING = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Where"}
FOLDED = AS_LARGE_AS_FIRST | REDUCING | BROADCASTING | {
    "Constant", "Concat", "Gather", "Expand", "Tile", "ConstantOfShape", "Range", "Shape"}
PLAIN_CELL_OPS = {"Sigmoid", "Tanh"}  # with MatMul or Gemm: a cell written out as plain ops


class _RunTime(Exception):
    """A value that depends on graph input `name` (directly when it is that input)."""

    def __init__(self, name: str, direct: bool) -> None:
        super().__init__(name)
        self.name, self.direct = name, direct


class _Scope:
    """The names one graph defines (initializers, node outputs, its inputs), and the graph
    it sits in: a subgraph sees the names of every graph around it."""

    def __init__(self, graph, parent: _Scope | None) -> None:
        self.parent = parent
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        self.producers = {name: node for node in graph.node for name in node.output if name}
        self.inputs = {value.name for value in graph.input} - set(self.initializers)

    def find(self, name: str) -> tuple[_Scope, str, object] | None:
        """(the scope defining `name`, "initializer" | "node" | "input", the proto)."""
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.initializers:
                return scope, "initializer", scope.initializers[name]
            if name in scope.producers:
                return scope, "node", scope.producers[name]
            if name in scope.inputs:
                return scope, "input", None
            scope = scope.parent
        return None


def read_onnx_layers(path: Path) -> list[Layer]:
    """Every recurrent layer of the GRU / LSTM / RNN nodes of an .onnx model, in its graph and
    in every subgraph."""
    try:
        import onnx
    except ImportError:
        raise InputError("install gru-tui[onnx] to read .onnx files") from None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:
        raise InputError(f"{path} is not a readable ONNX model ({first_line(error)})"
                         ) from None
    reader = _Reader(path, model)
    try:
        reader.walk(model.graph, None, "", 0)
    except InputError:
        raise
    except Exception as error:  # a damaged protobuf: names that are not text, and such
        raise InputError(f"{path} cannot be read ({first_line(error)})") from None
    if not reader.layers:
        raise InputError(reader.nothing_found(model))
    return reader.layers


class _Reader:
    def __init__(self, path: Path, model) -> None:
        self.path = path
        self.budget = FileBudget(path)
        self.opset = next((entry.version for entry in model.opset_import
                           if entry.domain in DOMAINS), 1)
        self.folder = _Folder(path, self.opset, self.budget)
        self.layers: list[Layer] = []
        self.ops: set[str] = set()  # every operator seen, for the message when none is read
        self.foreign: set[str] = set()  # recurrent operators of other domains, never read

    def walk(self, graph, parent: _Scope | None, prefix: str, depth: int) -> None:
        from onnx import AttributeProto

        if depth > MAX_DEPTH:
            raise InputError(f"{self.path}: {prefix} holds graphs nested more than {MAX_DEPTH} "
                             "deep")
        scope = _Scope(graph, parent)
        for k, node in enumerate(graph.node):
            self.budget.check_time()
            label, op = prefix + (_text(node.name) or f"node{k}"), _text(node.op_type)
            self.ops.add(op)
            if op in KINDS and node.domain in DOMAINS:
                self.layers.extend(self.node_layers(node, label, scope))
            elif any(kind in op for kind in KINDS):
                self.foreign.add(f"{_text(node.domain)}.{op}")
            for attribute in node.attribute:
                at = f"{label}/{_text(attribute.name)}"
                if attribute.type == AttributeProto.GRAPH:
                    self.walk(attribute.g, scope, f"{at}/", depth + 1)
                elif attribute.type == AttributeProto.GRAPHS:
                    for n, subgraph in enumerate(attribute.graphs):
                        self.walk(subgraph, scope, f"{at}[{n}]/", depth + 1)

    def nothing_found(self, model) -> str:
        """Why no layer was read: what the model holds instead."""
        message = (f"{self.path} holds no recurrent layer (no GRU, LSTM or RNN node, in its "
                   "graph or any subgraph)")
        in_functions = sorted({function.name for function in model.functions
                               for node in function.node if node.op_type in KINDS})
        if in_functions:
            return message + (f"; its functions {', '.join(in_functions)} hold recurrent "
                              "nodes, which gru-tui does not read")
        if self.foreign:
            return message + (f"; {', '.join(sorted(self.foreign))} is not ONNX's own "
                              "operator, which gru-tui does not read")
        if self.ops >= PLAIN_CELL_OPS and self.ops & {"MatMul", "Gemm"}:
            return message + ("; its Sigmoid, Tanh and MatMul/Gemm nodes look like a cell "
                              "written out as plain ops, which gru-tui does not read")
        return message

    def node_layers(self, node, label: str, scope: _Scope) -> list[Layer]:
        op = node.op_type
        where = f"{self.path}: node {label}"
        attrs = _attributes(where, node, self.opset)
        direction, linear_before_reset = _check_attributes(where, op, attrs)
        dirs = 2 if direction == "bidirectional" else 1
        kind = KINDS[op]
        g = gate_count(kind)
        at_run_time: list[tuple[str, bool]] = []  # initial states the model is given

        def tensor(role: str, required: bool) -> np.ndarray | None:
            position = POSITIONS[role]
            name = node.input[position] if len(node.input) > position else ""
            if not name:
                if required:
                    raise InputError(f"{where}: {role} is missing")
                return None
            try:
                value = self.folder.value(name, scope, f"node {label}: {role}")
            except _RunTime as run_time:
                if role.startswith("initial_"):
                    at_run_time.append((role, run_time.direct))
                    return None
                raise InputError(f"{where}: {role} is computed at run time, not stored: it "
                                 f"depends on graph input {run_time.name!r}") from None
            check_values(self.path, f"node {label}: {role} ({name})", value)
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
        if H < 1:
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
                raise shape_error(role, value, f"({dirs}, batch, {H})" if layout == 0
                                  else f"(batch, {dirs}, {H})")
            return value if layout == 0 else value.transpose(1, 0, 2)

        h0, c0 = state("initial_h", h0), state("initial_c", c0)

        reset = "after" if linear_before_reset else "before"
        if kind == "gru":
            notes = [f"reset {reset}"]
        elif kind == "lstm":
            notes = ["peepholes" if P is not None else "standard"]
        else:
            notes = ["tanh"]
        stored = [role for role, value in (("initial_h", h0), ("initial_c", c0))
                  if value is not None]
        if stored:
            notes.append(f"{' and '.join(stored)} stored")
        for direct in (True, False):
            roles = [role for role, is_input in at_run_time if is_input == direct]
            if roles:
                plural = len(roles) > 1
                said = ("are graph inputs" if plural else "is a graph input") if direct else \
                    ("are" if plural else "is") + " computed at run time"
                notes.append(f"{' and '.join(roles)} {said}")
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
                convention=", ".join(notes),
                parameters=sum(int(t[d].size) for t in (W, R, B, P) if t is not None),
                path=str(self.path), tensors=tensors, order=TABLES[kind].order("onnx"),
                reset=reset, framework="ONNX",
                initial_h=None if h0 is None else h0[d],
                initial_c=None if c0 is None else c0[d],
            ))
        return layers


def _text(value: str | bytes) -> str:
    """A name from the protobuf: bytes when the file's are not valid UTF-8."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _attributes(where: str, node, opset: int) -> dict:
    """The node's attributes as Python values, each of the type ONNX's schema gives it."""
    from onnx import AttributeProto, defs, helper

    try:
        schema = defs.get_schema(node.op_type, opset, "")
    except Exception:
        raise InputError(f"{where}: ONNX defines no {node.op_type} at opset {opset}") from None
    values = {}
    for attribute in node.attribute:
        declared = schema.attributes.get(attribute.name)
        if declared is None:
            raise InputError(f"{where}: {attribute.name} is not an attribute of ONNX's "
                             f"{node.op_type}")
        expected = declared.type.value
        if attribute.type != expected:
            given = AttributeProto.AttributeType.Name(attribute.type) if \
                attribute.type in AttributeProto.AttributeType.values() else str(attribute.type)
            raise InputError(f"{where}: attribute {attribute.name} is a {given}; ONNX's "
                             f"{node.op_type} takes a {declared.type.name}")
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v
                     for v in value]
        values[attribute.name] = value
    return values


def _check_attributes(where: str, op: str, attrs: dict) -> tuple[str, int]:
    """The node's direction and linear_before_reset; anything gru-tui cannot run refused."""
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


# -- folding constants ----------------------------------------------------------------------


class _Folder:
    """Values known without running the model: stored tensors, and what operators compute
    from those alone, evaluated once each (onnx.reference, one node at a time)."""

    def __init__(self, path: Path, opset: int, budget: FileBudget) -> None:
        self.path, self.opset, self.budget = path, opset, budget
        self.values: dict[tuple[int, str], np.ndarray] = {}  # by (defining scope, name)

    def value(self, name: str, scope: _Scope, role: str) -> np.ndarray:
        """The value of `name` seen from `scope`; _RunTime when it needs a graph input."""
        where = f"{self.path}: {role}"
        found = self._find(name, scope, where)
        if found[1] == "input":
            raise _RunTime(name, direct=True)
        pending = [(name, scope)]
        started: set[tuple[int, str]] = set()
        while pending:
            self.budget.check_time()
            current, current_scope = pending[-1]
            owner, kind, proto = self._find(current, current_scope, where)
            key = (id(owner), current)
            if key in self.values:
                pending.pop()
                continue
            if kind == "input":
                raise _RunTime(current, direct=False)
            if kind == "initializer":
                self.values[key] = self._stored(where, proto)
                pending.pop()
                continue
            node = proto
            needed = [(item, owner) for item in node.input if item and self._key(
                item, owner, where) not in self.values]
            if needed:
                if key in started:
                    raise InputError(f"{where}: {current} is computed from itself (a cycle)")
                started.add(key)
                pending.extend(needed)
                continue
            inputs = [self.values[self._key(item, owner, where)] if item else None
                      for item in node.input]
            for output, value in zip(node.output, self._run(where, node, inputs), strict=False):
                if output:
                    self.values[(id(owner), output)] = value
            pending.pop()
        return self.values[(id(found[0]), name)]

    def _find(self, name: str, scope: _Scope, where: str) -> tuple[_Scope, str, object]:
        found = scope.find(name)
        if found is None:
            raise InputError(f"{where}: {name!r} is not defined in the model")
        return found

    def _key(self, name: str, scope: _Scope, where: str) -> tuple[int, str]:
        return id(self._find(name, scope, where)[0]), name

    def _stored(self, where: str, tensor) -> np.ndarray:
        from onnx import TensorProto, helper, numpy_helper

        if tensor.data_location == TensorProto.EXTERNAL:
            raise InputError(f"{where}: tensor {tensor.name} is kept in an external data file, "
                             "which gru-tui does not read")
        try:
            itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        except Exception:  # UNDEFINED or a type numpy lacks: to_array says so below
            itemsize = VALUE_BYTES
        self.budget.take(_product(tensor.dims) * itemsize,
                         f"tensor {tensor.name} of shape {tuple(tensor.dims)}")
        try:
            return numpy_helper.to_array(tensor)
        except Exception as error:
            raise InputError(f"{where}: tensor {tensor.name} cannot be read "
                             f"({first_line(error)})") from None

    def _run(self, where: str, node, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        """One node's outputs, after its size is counted against the budget."""
        from onnx.reference import ReferenceEvaluator

        label = f"{node.op_type} node {node.name or node.output[0]!r}"
        if node.op_type not in FOLDED or node.domain not in DOMAINS:
            raise InputError(f"{where} is computed by a {label}, which gru-tui does not fold; "
                             "it folds Constant, Slice, Concat, Reshape, Transpose, Cast and "
                             "similar operators of stored tensors")
        try:
            elements = _output_elements(node, inputs)
        except Exception as error:
            raise InputError(f"{where}: {label} cannot be folded ({first_line(error)})"
                             ) from None
        self.budget.take(elements * VALUE_BYTES,
                         f"{where.split(': ', 1)[1]}: folding {label} ({elements:,} values)")
        feeds = {name: value for name, value in zip(node.input, inputs, strict=True) if name}
        try:
            outputs = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        except Exception as error:
            raise InputError(f"{where}: {label} cannot be folded ({first_line(error)})"
                             ) from None
        return [np.asarray(output) for output in outputs]


def _product(values, limit: int = 1 << 62) -> int:
    """The product of integers, stopping once past `limit` (a huge claimed shape)."""
    total = 1
    for value in values:
        total *= max(int(value), 0)
        if total > limit:
            return total
    return total


def _output_elements(node, inputs: list[np.ndarray | None]) -> int:
    """How many values a folded node can output, known before it runs (an upper bound)."""
    from onnx import helper

    op = node.op_type
    given = [value for value in inputs if value is not None]
    if op == "Constant":
        attribute = node.attribute[0]
        value = helper.get_attribute_value(attribute)
        if hasattr(value, "dims"):  # a TensorProto (value, sparse_value)
            return _product(value.dims)
        return len(value) if isinstance(value, list) else 1
    if op in AS_LARGE_AS_FIRST:
        return given[0].size
    if op in REDUCING:  # reducing an empty axis gives 1s: count empty dimensions as 1
        return _product(max(size, 1) for size in given[0].shape)
    if op == "Shape":
        return given[0].ndim
    if op == "Concat":
        return sum(value.size for value in given)
    if op in BROADCASTING:
        return _product(np.broadcast_shapes(*(value.shape for value in given)))
    if op == "Gather":
        data, indices = given
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        rows = data.shape[axis] if data.ndim else 1
        return 0 if rows == 0 else data.size // rows * indices.size
    if op == "Expand":
        return _product(np.broadcast_shapes(given[0].shape, tuple(
            int(v) for v in given[1].ravel())))
    if op == "Tile":
        return given[0].size * _product(given[1].ravel())
    if op == "ConstantOfShape":
        return _product(given[0].ravel())
    # Range: ⌈(limit − start) / delta⌉
    start, limit, delta = (float(value) for value in given)
    return max(math.ceil((limit - start) / delta), 0)
