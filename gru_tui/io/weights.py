"""Recurrent layers from weight files (SPEC §4), whatever the format: the one door to the
readers. PyTorch state dicts (.safetensors, .npz) are read by :mod:`.pytorch_layers`, ONNX
models by :mod:`.onnx_layers` (the optional onnx package), Keras files by
:mod:`.keras_layers` (the optional h5py package).

Loading never executes code from the file. Every problem is an
:class:`~gru_tui.errors.InputError` of one line naming the file and the tensor.
"""

from __future__ import annotations

from pathlib import Path

from gru_tui.io.keras_layers import read_keras_layers
from gru_tui.io.layers import Layer, check_file, select_layer
from gru_tui.io.onnx_layers import read_onnx_layers
from gru_tui.io.pytorch_layers import read_metadata, read_pytorch_layers

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def read_layers(path: str | Path) -> list[Layer]:
    """Every recurrent layer of a PyTorch state dict in a .safetensors or .npz file, of the
    GRU / LSTM / RNN nodes of an .onnx model, or of a Keras .keras / .h5 file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        check_file(path)
        return read_onnx_layers(path)
    if suffix in KERAS_SUFFIXES:
        check_file(path)
        return read_keras_layers(path)
    return read_pytorch_layers(path)


def load_layer(path: str | Path, layer: str | int | None = None) -> Layer:
    """One layer of a file: named or indexed as `inspect` lists them; default, the first
    forward one."""
    return select_layer(read_layers(path), layer)


__all__ = ["Layer", "load_layer", "read_layers", "read_metadata", "select_layer"]
