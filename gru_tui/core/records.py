"""JSON Lines records of SPEC §3: one object per model per timestep."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import numpy as np

from gru_tui.engine import Trace


def json_lines(traces: Mapping[str, Trace], offset: int = 0,
               extra: Mapping[str, Mapping[str, np.ndarray]] | None = None) -> Iterator[str]:
    """Records ordered by t, then by model in the mapping's order; t counts from offset + 1.

    `extra` maps a model to more columns, {key: array [T]}, written after the SPEC §3 keys
    (``step --gradients``: "sensitivity", "state_jacobian", ...).

    Floats are written by Python's repr: the shortest text that reads back to the same
    float64 (a float32 value is written as the float64 it widens to, exactly).
    """
    columns = {
        model: {key: trace[key].tolist() for key in trace.cell.RECORD_KEYS}
        for model, trace in traces.items()
    }
    for model, more in (extra or {}).items():
        columns[model].update({key: np.asarray(values).tolist() for key, values in more.items()})
    steps = min((trace.steps for trace in traces.values()), default=0)
    dumps = json.dumps
    for t in range(steps):
        for model, cols in columns.items():
            record = {"model": model, "t": offset + t + 1}
            for key, values in cols.items():
                record[key] = values[t]
            yield dumps(record)
