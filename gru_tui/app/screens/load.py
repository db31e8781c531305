"""Load weights (`l`): random ones, a shipped example, or a file and one of its layers.

A served app (`gru-tui serve … --weights-dir DIR`) runs on the teacher's machine: the student
may open the shipped examples and the files under DIR (listed here), and nothing else; every
other name gets the same refusal, whether or not it exists.
"""

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
from gru_tui.errors import InputError, escaped
from gru_tui.io.files import path_within
from gru_tui.io.weights import read_layers, select_layer

WEIGHT_SUFFIXES = (".safetensors", ".npz", ".onnx", ".keras", ".h5", ".hdf5", ".pt", ".pth",
                   ".bin", ".ckpt")
MAX_LISTED = 100


class LoadScreen(ModalScreen[tuple[tuple, str | None] | None]):
    """Choose the weights: random ones, a shipped example, or a file (then one of its layers).

    Dismissed with (layers, example name or None); no layers means random weights. A file
    that cannot be read leaves the dialog open with the reason; the app keeps its model.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, seed: int, served: bool = False, folder: Path | None = None) -> None:
        super().__init__()
        self.seed = seed
        self.served = served
        self.folder = folder  # a served student's files: only under it
        self.file_layers: list = []

    @property
    def refusal(self) -> str:
        """What a served student reads for any name outside the folder."""
        if self.folder is None:
            return "on this server, l opens the shipped examples only"
        return f"on this server, l opens the shipped examples and the files in {self.folder}"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="load") as dialog:
            dialog.border_title = "Load weights"
            dialog.border_subtitle = "enter to load, escape to cancel"
            yield OptionList(*self._choices(), id="load-choices")
            yield Input(placeholder=self._placeholder(), id="load-path")
            yield Label("", id="load-error")

    def _placeholder(self) -> str:
        if self.served and self.folder is None:
            return "(this server offers no files of its own)"
        where = f"or a file in {escaped(str(self.folder))}" if self.served else "or a file"
        return f"{where}: .safetensors, .npz, .onnx, .keras, .h5"

    def _choices(self) -> list[Option]:
        options = [Option(Text.assemble(("random".ljust(10), "bold"),
                                        f"random weights from seed {self.seed}"), id="random")]
        for example in EXAMPLES.values():
            options.append(Option(Text.assemble((example.name.ljust(10), "bold"),
                                                example.summary), id=f"example:{example.name}"))
        for name in self._served_files():
            options.append(Option(Text.assemble(("file".ljust(10), "bold"), escaped(name)),
                                  id=f"file:{name}"))
        return options

    def _served_files(self) -> list[str]:
        """The weight files a served student may open, by name: the folder is theirs to see."""
        if not self.served or self.folder is None:
            return []
        try:
            names = sorted(entry.name for entry in self.folder.iterdir()
                           if entry.suffix.lower() in WEIGHT_SUFFIXES and entry.is_file())
        except OSError:
            return []
        return [name for name in names if self._within(name)][:MAX_LISTED]

    def _within(self, name: str) -> bool:
        try:
            path_within(name, self.folder, self.refusal)
        except InputError:  # a link out of the folder
            return False
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or ""
        if choice == "random":
            self.dismiss(((), None))
        elif choice.startswith("example:"):
            name = choice.removeprefix("example:")
            self._try(lambda: (example_layers(name), name))
        elif choice.startswith("layer:"):
            self.dismiss(((self.file_layers[int(choice.removeprefix("layer:"))],), None))
        elif choice.startswith("file:"):
            self._open(choice.removeprefix("file:"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._open(event.value.strip())

    def _open(self, name: str) -> None:
        """Read the file `name` names: one layer loads, several are offered to choose from."""
        if self.served:
            path = self._try(lambda: path_within(name, self.folder, self.refusal), dismiss=False)
            if path is None:
                return
        else:
            path = Path(name).expanduser()
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
        choices.border_title = Text(f"Layers of {escaped(path.name)}")
        choices.focus()

    def _try(self, read, dismiss: bool = True):
        """Read; a refusal is shown here and as a notice, and nothing changes."""
        try:
            result = read()
        except InputError as error:
            self.query_one("#load-error", Label).update(Text(escaped(str(error))))
            self.notify(str(error), title="Not loaded", severity="warning")
            return None
        if dismiss:
            self.dismiss(result)
        return result
