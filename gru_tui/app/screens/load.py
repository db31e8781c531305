"""Load weights (`l`): random ones, a shipped example, or a file and one of its layers."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from gru_tui.core.examples import EXAMPLES, example_layers
from gru_tui.errors import InputError
from gru_tui.io.weights import read_layers, select_layer


class LoadScreen(ModalScreen[tuple[tuple, str | None] | None]):
    """Choose the weights: random ones, a shipped example, or a file (then one of its layers).

    Dismissed with (layers, example name or None); no layers means random weights. A file
    that cannot be read leaves the dialog open with the reason; the app keeps its model.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed
        self.file_layers: list = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="load") as dialog:
            dialog.border_title = "Load weights"
            dialog.border_subtitle = "enter to load, escape to cancel"
            yield OptionList(*self._choices(), id="load-choices")
            yield Input(placeholder="or a file: .safetensors, .npz, .pt, .onnx, .keras, .h5",
                        id="load-path")
            yield Label("", id="load-error")

    def _choices(self) -> list[Option]:
        options = [Option(Text.assemble(("random".ljust(10), "bold"),
                                        f"random weights from seed {self.seed}"), id="random")]
        for example in EXAMPLES.values():
            options.append(Option(Text.assemble((example.name.ljust(10), "bold"),
                                                example.summary), id=f"example:{example.name}"))
        return options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or ""
        if choice == "random":
            self.dismiss(((), None))
        elif choice.startswith("example:"):
            name = choice.removeprefix("example:")
            self._try(lambda: (example_layers(name), name))
        elif choice.startswith("layer:"):
            self.dismiss(((self.file_layers[int(choice.removeprefix("layer:"))],), None))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip():
            return
        layers = self._try(lambda: read_layers(path), dismiss=False)
        if not layers:
            return
        if len(layers) == 1:
            self.dismiss(((layers[0],), None))
            return
        self.query_one("#load-error", Label).update("")
        self.file_layers = layers  # several: choose one, the default highlighted
        choices = self.query_one("#load-choices", OptionList)
        choices.clear_options()
        choices.add_options(Option(Text.assemble(
            (layer.name.ljust(24), "bold"),
            f"{layer.kind} {layer.direction} D={layer.input_size} H={layer.hidden_size} "
            f"{layer.convention}"), id=f"layer:{k}") for k, layer in enumerate(layers))
        choices.highlighted = layers.index(select_layer(layers, None))
        choices.border_title = f"Layers of {path.name}"
        choices.focus()

    def _try(self, read, dismiss: bool = True):
        """Read; a refusal is shown here and as a notice, and nothing changes."""
        try:
            result = read()
        except InputError as error:
            self.query_one("#load-error", Label).update(str(error))
            self.notify(str(error), title="Not loaded", severity="warning")
            return None
        if dismiss:
            self.dismiss(result)
        return result
