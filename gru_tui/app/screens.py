"""Modal screens: help, worked example, parameters, presets, typing a value, offsets,
loading weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from gru_tui.app.keys import GROUPS, KEYS
from gru_tui.console import parameter_report
from gru_tui.engine import parameter_table
from gru_tui.errors import InputError
from gru_tui.io.examples import EXAMPLES, example_layers
from gru_tui.io.presets import PRESETS
from gru_tui.io.weights import read_layers, select_layer
from gru_tui.theme import MODEL_TITLES, VECTORS, role_text, vector_info
from gru_tui.worked import worked_example

if TYPE_CHECKING:
    from gru_tui.explorer import Explorer


class InfoScreen(ModalScreen[None]):
    """A scrollable page over the app; escape, q or its own key closes it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    TITLE = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "escape to close"
            yield Static(self.body(), id="info-body")

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    def body(self):
        raise NotImplementedError

    def refresh_body(self) -> None:
        self.query_one("#info-body", Static).update(self.body())


class HelpScreen(InfoScreen):
    """Every key, grouped; then what each gate does."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    TITLE = "Help"

    def body(self) -> Group:
        parts: list = []
        for group in GROUPS:
            table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), title=group,
                          title_justify="left", title_style="bold")
            table.add_column(width=10, style="bold")
            table.add_column()
            for key in KEYS:
                if key.group == group:
                    table.add_row(key.shown or key.keys, key.description)
            parts.extend([table, Text("")])
        roles = Table(box=None, show_header=False, padding=(0, 2, 0, 0), title="What the "
                      "vectors do", title_justify="left", title_style="bold")
        z = self.explorer.scenario.z_weights
        for model, infos in VECTORS.items():
            for info in infos:
                if info.key in ("x", "h_prev") and model != "gru":
                    continue
                roles.add_row(MODEL_TITLES[model], Text(info.symbol, style="bold"),
                              role_text(model, info.key, z))
        parts.append(roles)
        return Group(*parts)


class WorkedScreen(InfoScreen):
    """Every gate's computation for the selected unit at step t, like the seed slides."""

    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("left", "move(-1)", "Step back"),
        Binding("right", "move(1)", "Step forward"),
        Binding("up,comma", "unit(-1)", "Previous unit"),
        Binding("down,full_stop", "unit(1)", "Next unit"),
    ]
    TITLE = "Worked example"

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog worked") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "←/→ step · ↑/↓ unit · escape closes"
            yield Static(self.header(), id="worked-header")
            stacked = "stacked" if self.app.size.width < 120 else ""
            with Horizontal(id="worked-models", classes=stacked):
                for model in self.explorer.visible:
                    yield Static(self.model_body(model), id=f"worked-{model}",
                                 classes="worked-model")

    def header(self) -> Text:
        ex = self.explorer
        x = ", ".join(f"{v:.4f}" for v in ex.xs[ex.t])
        return Text.assemble(
            (f"t = {ex.t + 1} / {ex.steps}, unit {ex.unit + 1} of {ex.hidden_size}", "bold"),
            f"     x_t = [{x}]")

    def model_body(self, model: str) -> Group:
        ex = self.explorer
        trace = ex.traces[model]
        gates, states = worked_example(trace, ex.t, ex.unit)
        parts: list = [Text(f" {MODEL_TITLES[model]} ", style="bold reverse")]
        h_prev = ", ".join(f"{v:.4f}" for v in trace["h_prev"][ex.t])
        parts.append(Text(f"h_t-1 = [{h_prev}]"))
        if model == "lstm":
            c_prev = ", ".join(f"{v:.4f}" for v in trace["c_prev"][ex.t])
            parts.append(Text(f"C_t-1 = [{c_prev}]"))
        z = getattr(trace.cell, "z_weights", "old")
        for k, work in enumerate(gates, start=1):
            info = vector_info(model, work.key)
            parts.append(Text(""))
            parts.append(Text.assemble((f"Step {k}: {info.name} {info.symbol}", "bold"),
                                       (f" — {role_text(model, work.key, z)}", "italic dim")))
            lhs, rhs = work.formula.split(" = ", 1)
            parts.append(_equation(lhs, [rhs, work.substituted(), Text(work.result(),
                                                                       style="bold")]))
        for work in states:
            parts.append(Text(""))
            parts.append(Text("Update", style="bold"))
            lhs, rhs = work.formula.split(" = ", 1)
            parts.append(_equation(lhs, [rhs, Text(work.substituted, style="bold")]))
        return Group(*parts)

    def refresh_body(self) -> None:
        self.query_one("#worked-header", Static).update(self.header())
        for model in self.explorer.visible:
            self.query_one(f"#worked-{model}", Static).update(self.model_body(model))

    def action_move(self, delta: int) -> None:
        self.explorer.move(delta)
        self.app.changed()  # type: ignore[attr-defined]
        self.refresh_body()

    def action_unit(self, delta: int) -> None:
        self.explorer.choose_unit(delta)
        self.app.changed()  # type: ignore[attr-defined]
        self.refresh_body()


def _equation(lhs: str, lines: list) -> Table:
    """lhs = line 1, then "= line" under it; long lines wrap inside their own column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    for k, line in enumerate(lines):
        grid.add_row(f"  {lhs}" if k == 0 else "", "=", line)
    return grid


class ParametersScreen(InfoScreen):
    """Parameter counts for the current D and H."""

    BINDINGS = [Binding("escape,q,n", "dismiss", "Close")]
    TITLE = "Parameters"

    def body(self) -> Group:
        ex = self.explorer
        D, H = ex.input_size, ex.hidden_size
        return parameter_report(D, H, parameter_table(D, H))


class PresetScreen(ModalScreen[str | None]):
    """Pick a preset sequence."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        options = OptionList(
            *(Option(Text.assemble((f"{p.name:<10}", "bold"), f"{p.steps:>3} steps  ",
                                   p.summary), id=p.name) for p in PRESETS.values()),
            classes="dialog",
        )
        options.border_title = "Presets"
        options.border_subtitle = "enter to load, escape to cancel"
        current = self.app.explorer.preset  # type: ignore[attr-defined]
        if current in PRESETS:
            options.highlighted = list(PRESETS).index(current)
        yield options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ValueScreen(ModalScreen[str | None]):
    """Type an exact value for the selected component."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, where: str, current: float) -> None:
        super().__init__()
        self.where, self.current = where, current

    def compose(self) -> ComposeResult:
        field = Input(value=repr(float(self.current)), placeholder="a finite number",
                      classes="dialog", select_on_focus=True)
        field.border_title = f"Value of {self.where}"
        field.border_subtitle = "enter to set, escape to cancel"
        yield field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


SLIDE_ORDER = {gate: k for k, gate in enumerate("rznfigoh")}


class OffsetsScreen(ModalScreen[None]):
    """Per-gate bias offsets and the recurrent weight scale."""

    BINDINGS = [
        Binding("escape,q,o", "dismiss", "Close"),
        Binding("plus,equals_sign,right", "change(0.5)", "+0.5"),
        Binding("minus,left", "change(-0.5)", "-0.5"),
        Binding("0", "clear", "Reset"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Bias offsets and U scale"
            dialog.border_subtitle = "+/- or ←/→ change, 0 resets, escape closes"
            yield OptionList(*self._options(), id="offsets")
            yield Label("Offsets are added to a gate's input bias b_i: an LSTM forget bias of "
                        "+1 keeps more of the cell state. U scale multiplies every recurrent "
                        "matrix: below 1 memories fade faster, above 1 they can explode.",
                        id="offsets-note")

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    def _entries(self) -> list[tuple[str, str | None]]:
        entries: list[tuple[str, str | None]] = [("scale", None)]
        for model in self.explorer.visible:
            gates = self.explorer.gates_of(model)
            for gate in sorted(gates, key=SLIDE_ORDER.get):  # the LSTM as the slides: f, i, g, o
                entries.append((model, gate))
        return entries

    def _options(self) -> list[Option]:
        ex = self.explorer
        options = []
        for model, gate in self._entries():
            if gate is None:
                text = Text.assemble(("U scale".ljust(28), "bold"),
                                     f"×{ex.scenario.recurrent_scale:g}")
            else:
                info = vector_info(model, ex.traces[model].cell.GATE_NAMES[gate])
                label = f"{MODEL_TITLES[model]} {info.name}"
                text = Text.assemble((label.ljust(28), "bold"),
                                     f"{ex.bias_offset(model, gate):+g}")
            options.append(Option(text, id=f"{model}.{gate}"))
        return options

    def _refresh(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(self._options())
        options.highlighted = highlighted

    def _selected(self) -> tuple[str, str | None]:
        index = self.query_one(OptionList).highlighted or 0
        return self._entries()[index]

    def action_change(self, delta: float) -> None:
        model, gate = self._selected()
        ex = self.explorer
        if gate is None:
            ex.scale_recurrent(1.25 if delta > 0 else 0.8)
        else:
            ex.set_bias_offset(model, gate, ex.bias_offset(model, gate) + delta)
        self.app.changed()  # type: ignore[attr-defined]
        self._refresh()

    def action_clear(self) -> None:
        model, gate = self._selected()
        ex = self.explorer
        if gate is None:
            ex.set_recurrent_scale(1.0)
        else:
            ex.set_bias_offset(model, gate, 0.0)
        self.app.changed()  # type: ignore[attr-defined]
        self._refresh()


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
            yield Input(placeholder="or a file: .safetensors, .npz, .onnx, .keras, .h5",
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
