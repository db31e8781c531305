"""Every action of the app, its key and its description, in one registry.

The app's bindings, the help screen and the command palette are all made from this table,
so a key is listed everywhere or nowhere.

A key works on the screens it names. The main screen's keys are the app's bindings, and work
on every screen opened over it (the diagram, the worked example). A screen that shows
something else, the training lab (`gru-tui lab`), binds only the keys that name it
(``bindings(LAB)``): its own actions, written ``screen.<action>``, and the app's that make
sense there (help, quit, screenshot). The help and the command palette list the keys of
the screen they are opened on.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

MAIN = "main"  # the main screen and the screens over it: the app's own bindings
DIAGRAM = "diagram"  # the cell diagram's own keys, over the main screen's
LAB = "lab"  # the training lab's screen


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated
    action: str  # the app's action, with arguments
    description: str  # short, for the footer and the palette
    group: str  # heading in the help screen
    shown: str = ""  # how the help screen writes the key; default: from `keys`
    footer: str = ""  # a short label puts the key in the footer
    builtin: bool = False  # Textual binds it already; listed, not bound again
    screens: tuple[str, ...] = (MAIN,)  # where it works
    while_following: bool = False  # works while the app follows a teacher or a recording

    def binding(self, screen: str = MAIN) -> Binding:
        """Bound by the app (MAIN), or by another screen, where an app action is "app.…"."""
        action = self.action
        if screen != MAIN and "." not in action:
            action = f"app.{action}"
        return Binding(self.keys, action, self.footer or self.description,
                       show=bool(self.footer), key_display=self.shown or None,
                       tooltip=self.description)


EVERYWHERE = (MAIN, LAB)

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
    Key("d", "diagram", "Cell diagram: the slides' figure with this step's numbers", "View", "d"),
    Key("n", "parameters", "Parameter counts", "View", "n"),
    Key("v", "toggle_strips", "Bars / heat strips", "View", "v"),
    Key("m", "toggle_memory", "Memory: how much h_T depends on each x_t", "View", "m",
        footer="memory"),
    Key("P", "projector", "Projector mode: black on white, tall bars, a large step counter",
        "View", "P", while_following=True),
    Key("ctrl+s", "screenshot", "Save an SVG screenshot", "Save", "ctrl+s", screens=EVERYWHERE,
        while_following=True),
    Key("S", "save_session", "Save the session file", "Save", "S", while_following=True),
    # In a lesson (SPEC §13): while following, the app shows the teacher's (or a recording's)
    # state, and only these and the App keys work; space, < > and [ ] steer a recording.
    Key("f", "follow", "Follow the teacher / explore on your own", "Lesson", "f",
        while_following=True),
    Key("M", "mark", "Drop a marker with a note (teacher, recording)", "Lesson", "M"),
    Key("space", "replay_play", "Play / pause the recording", "Lesson", "space",
        while_following=True),
    Key("greater_than_sign", "replay_speed(1)", "Replay faster", "Lesson", ">",
        while_following=True),
    Key("less_than_sign", "replay_speed(-1)", "Replay slower", "Lesson", "<",
        while_following=True),
    Key("left_square_bracket", "marker(-1)", "Previous marker of the recording", "Lesson",
        "[", while_following=True),
    Key("right_square_bracket", "marker(1)", "Next marker of the recording", "Lesson", "]",
        while_following=True),
    Key("tab", "app.focus_next", "Next panel", "App", "tab", builtin=True,
        while_following=True),
    Key("shift+tab", "app.focus_previous", "Previous panel", "App", "shift+tab", builtin=True,
        while_following=True),
    Key("question_mark", "help", "Help: every key", "App", "?", footer="help",
        screens=EVERYWHERE, while_following=True),
    Key("ctrl+p", "command_palette", "Command palette", "App", "ctrl+p", builtin=True,
        screens=EVERYWHERE, while_following=True),
    Key("q", "quit", "Quit", "App", "q", footer="quit", screens=EVERYWHERE,
        while_following=True),
    Key("tab", "screen.next_model", "Diagram: next model", "Cell diagram", "tab",
        screens=(DIAGRAM,)),
    Key("1", "screen.model('gru')", "Diagram: the GRU", "Cell diagram", "1", screens=(DIAGRAM,)),
    Key("2", "screen.model('lstm')", "Diagram: the LSTM", "Cell diagram", "2",
        screens=(DIAGRAM,)),
    Key("3", "screen.model('rnn')", "Diagram: the simple RNN", "Cell diagram", "3",
        screens=(DIAGRAM,)),
    Key("up", "screen.node(-1)", "Diagram: previous node", "Cell diagram", "↑",
        screens=(DIAGRAM,)),
    Key("down", "screen.node(1)", "Diagram: next node", "Cell diagram", "↓", screens=(DIAGRAM,)),
    Key("enter", "screen.worked", "Diagram: the worked example at the node", "Cell diagram",
        "enter", screens=(DIAGRAM,)),
    Key("d,escape", "screen.close", "Close the diagram", "Cell diagram", "d / escape",
        screens=(DIAGRAM,), while_following=True),
    Key("space", "screen.toggle_training", "Pause / resume training", "Training lab", "space",
        footer="pause", screens=(LAB,)),
    Key("r", "screen.restart", "Restart training from the same seed", "Training lab", "r",
        footer="restart", screens=(LAB,)),
    Key("S", "screen.save", "Save the models and the held-out batch", "Training lab", "S",
        footer="save", screens=(LAB,)),
    Key("enter", "screen.explore", "Open the trained models in the explorer", "Training lab",
        "enter", footer="explore", screens=(LAB,)),
    Key("left", "screen.probe_step(-1)", "Probe sequence: step back", "Training lab", "←",
        screens=(LAB,)),
    Key("right", "screen.probe_step(1)", "Probe sequence: step forward", "Training lab", "→",
        screens=(LAB,)),
    Key("up", "screen.scroll_probe(-1)", "Scroll the models' gates up", "Training lab", "↑",
        screens=(LAB,)),
    Key("down", "screen.scroll_probe(1)", "Scroll the models' gates down", "Training lab", "↓",
        screens=(LAB,)),
)
def keys_of(screen: str) -> tuple[Key, ...]:
    """The keys registered for `screen`."""
    return tuple(key for key in KEYS if screen in key.screens)


def keys_working_on(screen: str) -> tuple[Key, ...]:
    """The keys that work on `screen`: its own, then, on a screen over the main one (the
    diagram), the app's that it does not take for itself."""
    own = keys_of(screen)
    if screen in (MAIN, LAB):
        return own
    taken = {name for key in own for name in key.keys.split(",")}
    return (*own, *(key for key in keys_of(MAIN)
                    if not taken & set(key.keys.split(","))))


def bindings(screen: str = MAIN) -> list[Binding]:
    """The bindings of `screen`: the app's for MAIN, a screen's own for the others."""
    return [key.binding(screen) for key in keys_of(screen) if not key.builtin]


REPLAY_ACTIONS = {"replay_play", "replay_speed", "marker"}  # while following a recording


def action_name(key: Key) -> str:
    """The action's name, as Textual's check_action gets it: "move" for "move(-1)"."""
    return key.action.split("(")[0].removeprefix("app.")


def _key_actions() -> dict[str, set[str]]:
    """Textual key name → the names of the actions the app binds to it."""
    actions: dict[str, set[str]] = {}
    for key in keys_of(MAIN):
        for name in key.keys.split(","):
            actions.setdefault(name, set()).add(action_name(key))
    return actions


ACTIONS = {action_name(key) for key in keys_of(MAIN)}
WHILE_FOLLOWING = {action_name(key) for key in keys_of(MAIN) if key.while_following}
KEY_ACTIONS = _key_actions()
