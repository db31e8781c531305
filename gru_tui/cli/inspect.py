"""`gru-tui inspect FILE`: the recurrent layers of a weight file."""

from __future__ import annotations

from typing import Annotated

import typer


def inspect(
    file: Annotated[str, typer.Argument(
        help="A PyTorch state dict (.safetensors, .npz, or torch.save's .pt, .pth, .bin, "
             ".ckpt), an ONNX model (.onnx) or a Keras file (.keras, .weights.h5, .h5).")],
    json_out: Annotated[bool, typer.Option("--json", help="A JSON list, one object per layer.")
                        ] = False,
) -> None:
    """List every recurrent layer of a weight file: the names and indices --layer takes."""
    from gru_tui.io.weights import read_layers

    layers = read_layers(file)
    if json_out:
        import json

        print(json.dumps([layer.describe(index) for index, layer in enumerate(layers)]))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Recurrent layers in {file}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
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
    console = Console(highlight=False)
    console.print(table)
    for defaults in dict.fromkeys(layer.activations_assumed for layer in layers
                                  if layer.activations_assumed):
        names = ", ".join(layer.name for layer in layers if layer.activations_assumed == defaults)
        console.print(f"activations assumed: {defaults} for {names}, as the file does not say "
                      "them; --recurrent-activation sigmoid|hard_sigmoid chooses otherwise.")
    default = next((layer for layer in layers if not layer.reverse), layers[0])
    console.print(f"--layer picks one by name or #; the default is {default.name}.")
