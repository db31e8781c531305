"""Every action of the app, its key and its description, in one registry.

The app's bindings, the help screen and the command palette are all made from this table,
so a key is listed everywhere or nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated
    action: str  # the app's action, with arguments
    description: str  # short, for the footer and the palette
    group: str  # heading in the help screen
    shown: str = ""  # how the help screen writes the key; default: from `keys`
    footer: str = ""  # a short label puts the key in the footer
    builtin: bool = False  # Textual binds it already; listed, not bound again

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.footer or self.description,
                       show=bool(self.footer), key_display=self.shown or None,
                       tooltip=self.description)


GROUPS = ("Move", "Edit", "Sequence", "Model", "View", "Save", "App")

KEYS: tuple[Key, ...] = (
    Key("left", "move(-1)", "Step back", "Move", "←", footer="back"),
    Key("right", "move(1)", "Step forward", "Move", "→", footer="step"),
    Key("home", "first", "First step", "Move", "home"),
    Key("end", "last", "Last step", "Move", "end"),
    Key("space", "play", "Play / pause", "Move", "space", footer="play"),
    Key("greater_than_sign", "speed(1)", "Play faster", "Move", ">"),
    Key("less_than_sign", "speed(-1)", "Play slower", "Move", "<"),
    Key("up", "choose(-1)", "Previous component / unit", "Edit", "↑"),
    Key("down", "choose(1)", "Next component / unit", "Edit", "↓"),
    Key("comma", "unit(-1)", "Previous hidden unit", "Edit", ","),
    Key("full_stop", "unit(1)", "Next hidden unit", "Edit", "."),
    Key("plus,equals_sign", "nudge(0.1)", "Nudge up by 0.1", "Edit", "+"),
    Key("minus", "nudge(-0.1)", "Nudge down by 0.1", "Edit", "-"),
    Key("right_square_bracket", "nudge(0.01)", "Nudge up by 0.01", "Edit", "]"),
    Key("left_square_bracket", "nudge(-0.01)", "Nudge down by 0.01", "Edit", "["),
    Key("enter", "type_value", "Type a value", "Edit", "enter"),
    Key("0", "zero", "Set the component to 0", "Edit", "0"),
    Key("x", "randomise", "Randomise the vector", "Edit", "x"),
    Key("i", "insert_step", "Insert a step after t", "Sequence", "i"),
    Key("delete,D", "delete_step", "Delete step t", "Sequence", "del / D"),
    Key("p", "presets", "Choose a preset sequence", "Sequence", "p"),
    Key("s", "reseed", "New random weights (next seed)", "Model", "s"),
    Key("l", "load", "Load weights: a file, an example or random", "Model", "l"),
    Key("b", "toggle_reset", "GRU reset gate before / after U_Ĥ", "Model", "b"),
    Key("z", "toggle_z", "GRU z weights old / new state", "Model", "z"),
    Key("o", "offsets", "Bias offsets and U scale", "Model", "o"),
    Key("k", "keep_gates", "Keep gates open (GRU z, LSTM f) / as the weights say", "Model", "k"),
    Key("u", "scale_u(0.8)", "U scale ×0.8: memories fade faster", "Model", "u"),
    Key("U", "scale_u(1.25)", "U scale ×1.25: towards exploding", "Model", "U"),
    Key("1", "toggle_model('gru')", "Show / hide the GRU", "View", "1"),
    Key("2", "toggle_model('lstm')", "Show / hide the LSTM", "View", "2"),
    Key("3", "toggle_model('rnn')", "Show / hide the simple RNN", "View", "3"),
    Key("w", "worked", "Worked example for the selected unit", "View", "w", footer="worked"),
    Key("n", "parameters", "Parameter counts", "View", "n"),
    Key("v", "toggle_strips", "Bars / heat strips", "View", "v"),
    Key("m", "toggle_memory", "Memory: how much h_T depends on each x_t", "View", "m",
        footer="memory"),
    Key("P", "projector", "Projector mode: black on white, tall bars, a large step counter",
        "View", "P"),
    Key("ctrl+s", "screenshot", "Save an SVG screenshot", "Save", "ctrl+s"),
    Key("S", "save_session", "Save the session file", "Save", "S"),
    Key("tab", "app.focus_next", "Next panel", "App", "tab", builtin=True),
    Key("shift+tab", "app.focus_previous", "Previous panel", "App", "shift+tab", builtin=True),
    Key("question_mark", "help", "Help: every key", "App", "?", footer="help"),
    Key("ctrl+p", "command_palette", "Command palette", "App", "ctrl+p", builtin=True),
    Key("q", "quit", "Quit", "App", "q", footer="quit"),
)



def bindings() -> list[Binding]:
    return [key.binding() for key in KEYS if not key.builtin]
