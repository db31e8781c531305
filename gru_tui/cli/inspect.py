"""`gru-tui inspect FILE` and `gru-tui inspect --example NAME`: the recurrent layers of a
weight file, and what the file says about itself."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gru_tui.errors import InputError

FIRST = ("task", "inputs", "errors")  # the metadata a reader looks for first


def inspect(
    file: Annotated[str | None, typer.Argument(
        help="A PyTorch state dict (.safetensors, .npz, or torch.save's .pt, .pth, .bin, "
             ".ckpt), an ONNX model (.onnx) or a Keras file (.keras, .weights.h5, .h5).")
    ] = None,
    example: Annotated[str | None, typer.Option(
        "--example", "-e", help="A shipped example instead of a file: slides, delay or "
        "hold.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="A JSON list, one object per layer.")
                        ] = False,
) -> None:
    """List every recurrent layer of a weight file (the names and indices --layer takes),
    and the file's metadata: for the trained examples, their task and held-out errors."""
    if file is None and example is None:
        raise InputError("inspect needs a FILE or --example NAME")
    if file is not None and example is not None:
        raise InputError("inspect takes a FILE or --example NAME, not both")
    if example is not None:
        from gru_tui.core.examples import example as shipped

        chosen = shipped(example)
        layers, metadata = list(chosen.layers()), chosen.metadata()
        where = (f"--example {chosen.name} ({chosen.path})" if not chosen.make
                 else f"--example {chosen.name} (made by gru-tui: {chosen.summary})")
    else:
        from gru_tui.io.weights import read_layers, read_metadata

        layers, metadata, where = read_layers(file), read_metadata(file), file
    if json_out:
        print(json.dumps([layer.describe(index) for index, layer in enumerate(layers)]))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"Recurrent layers in {where}", soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    longest = max(len(layer.name) for layer in layers)
    for header in ("#", "name", "kind", "direction", "D", "H", "convention", "parameters"):
        numeric = header in ("#", "D", "H", "parameters")
        header = {"direction": "dir", "parameters": "params"}.get(header, header)
        table.add_column(header, justify="right" if numeric else "left",
                         no_wrap=header != "convention",  # names are what --layer takes
                         min_width=longest if header == "name" else None)
    for index, layer in enumerate(layers):
        table.add_row(str(index), layer.name, layer.kind, layer.direction,
                      str(layer.input_size), str(layer.hidden_size), layer.convention,
                      f"{layer.parameters:,}")
    console.print(table)
    for defaults in dict.fromkeys(layer.activations_assumed for layer in layers
                                  if layer.activations_assumed):
        names = ", ".join(layer.name for layer in layers if layer.activations_assumed == defaults)
        console.print(f"activations assumed: {defaults} for {names}, as the file does not say "
                      "them; --recurrent-activation sigmoid|hard_sigmoid chooses otherwise.")
    if metadata:
        console.print("Metadata", style="bold")
        width = max(len(key) for key in metadata)
        for key in sorted(metadata, key=lambda key: (FIRST.index(key) if key in FIRST
                                                     else len(FIRST), key)):
            console.print(f"  {key.ljust(width)}  {readable(metadata[key])}", soft_wrap=True)
    default = next((layer for layer in layers if not layer.reverse), layers[0])
    console.print(f"--layer picks one by name or #; the default is {default.name}.")


def readable(value: str) -> str:
    """A metadata value; one that holds a JSON object (the examples' errors, by model) as
    "gru: held_out_mse 0.0347, explained 0.8914 · lstm: …"."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if not isinstance(parsed, dict):
        return value

    def words(item) -> str:
        if isinstance(item, dict):
            return ", ".join(f"{key} {inner}" for key, inner in item.items())
        return str(item)

    return " · ".join(f"{key}: {words(item)}" for key, item in parsed.items())
