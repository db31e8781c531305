"""A lesson: the teacher's state as one small JSON object, which every student's app follows
and a recording keeps.

A state holds a session file's fields (core/session.py: what runs, the cursor, the shown
models) and three more of the app's own:

- "select": the component ↑/↓ and +/- edit, as [target, 1-based index], target "x", "h0"
  or "c0";
- "view": the names of the open views ("worked", "parameters", "memory", "strips", …), an
  open set: an app opens the ones it knows and passes over the others;
- "playing": the speed of play in steps per second, 0 when paused.

Between apps and servers each message is one line of JSON, the state or an event in an
envelope that names the lesson (a new id each time a teacher starts) and counts up:

    {"format": "gru-tui lesson", "version": 1, "lesson": "5f3a…", "seq": 7, "state": {…}}
    {"format": "gru-tui lesson", "version": 1, "lesson": "5f3a…", "seq": 8, "marker": "note"}
    {"format": "gru-tui lesson", "version": 1, "lesson": "5f3a…", "seq": 9, "end": "why"}

Only the latest state matters: a reader that falls behind skips to it. Keys this version
does not know are passed over, so an older app follows a newer teacher as far as it can.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from gru_tui.core.examples import example_layers
from gru_tui.core.explorer import TARGETS, Explorer
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import FORMAT as SESSION_FORMAT
from gru_tui.core.session import explorer_session, refuse_constant, session_from_fields
from gru_tui.errors import InputError
from gru_tui.io.inputs import parse_json
from gru_tui.io.weights import load_layer

FORMAT = "gru-tui lesson"
VERSION = 1
KINDS = ("state", "marker", "end")
MAX_MESSAGE = 4 << 20  # bytes: a longer line is junk (a state of 10,000 steps is far less)
MAX_NOTE = 200  # characters of a marker's note
# The fields a teacher changes without changing what runs: a state that differs from the
# previous one only in these moves the student's explorer instead of running it again.
CURSOR = ("t", "unit", "select", "view", "playing")


@dataclass(frozen=True, eq=False)
class LessonState:
    """One state of a lesson, checked: what runs (`scenario`, from `fields`) and where the
    teacher is in it."""

    fields: dict[str, Any]  # the state's fields but the cursor's: equal fields, same run
    scenario: Scenario
    t: int  # 0-based, like the explorer's
    unit: int
    target: str
    component: int  # 0-based
    view: frozenset[str]
    playing: float  # steps per second; 0: paused

    def explorer(self) -> Explorer:
        """A new explorer running this state's scenario, at its cursor."""
        explorer = Explorer(self.scenario, t=self.t, unit=self.unit,
                            visible=self.scenario.models)
        self.move(explorer)
        return explorer

    def move(self, explorer: Explorer) -> None:
        """Put the cursor of an explorer that runs this state's scenario where it says."""
        explorer.go(self.t)
        explorer.unit = min(self.unit, explorer.hidden_size - 1)
        try:
            explorer.choose_target(self.target)
        except InputError:  # C_0 with the LSTM hidden: the state says what cannot be
            return
        explorer.component = min(self.component, len(explorer.target_vector()) - 1)


def lesson_state(explorer: Explorer, view=(), playing: float = 0.0) -> dict[str, Any]:
    """The state of an explorer, with the app's open views and speed of play."""
    data = explorer_session(explorer)
    del data["format"], data["version"]
    data["select"] = [explorer.target, explorer.component + 1]
    data["view"] = sorted(view)
    data["playing"] = float(playing)
    return data


class Layers:
    """Reads each weight file and example once, for the many states that name the same."""

    def __init__(self) -> None:
        self._layers: dict[tuple, Any] = {}

    def layer(self, path: str, name: str):
        key = ("file", path, name)
        if key not in self._layers:
            self._layers[key] = load_layer(path, name)
        return self._layers[key]

    def example(self, name: str):
        key = ("example", name)
        if key not in self._layers:
            self._layers[key] = example_layers(name)
        return self._layers[key]


def parse_state(data: Any, where: str, previous: LessonState | None = None,
                layers: Layers | None = None) -> LessonState:
    """A state checked as a session file is, and its cursor; InputError names `where`.

    With the same fields as `previous`, its scenario is taken over: only the cursor moved.
    """
    if not isinstance(data, dict):
        raise InputError(f"{where}: a state is a JSON object")
    if data.get("format") == SESSION_FORMAT:
        raise InputError(f"{where}: a session file, not a lesson's state")
    fields = {key: value for key, value in data.items() if key not in CURSOR}
    if previous is not None and fields == previous.fields:
        scenario = previous.scenario
    else:
        layers = layers or Layers()
        scenario = session_from_fields(data, where, layers.layer, layers.example).scenario
    t = _whole(data, "t", where, 1, scenario.total_steps) - 1
    unit = _whole(data, "unit", where, 1, scenario.hidden_size) - 1
    target, component = _select(data.get("select", ["x", 1]), where)
    view = data.get("view", [])
    if not (isinstance(view, list) and all(isinstance(name, str) for name in view)):
        raise InputError(f'{where}: "view" must be a list of names')
    playing = data.get("playing", 0)
    if isinstance(playing, bool) or not isinstance(playing, int | float) \
            or not math.isfinite(playing) or playing < 0:
        raise InputError(f'{where}: "playing" must be 0 or steps per second')
    return LessonState(fields, scenario, t, unit, target, component, frozenset(view),
                       float(playing))


def _whole(data: dict, name: str, where: str, low: int, high: int) -> int:
    """A 1-based whole number field, clamped into [low, high] (default low)."""
    value = data.get(name, low)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f'{where}: "{name}" must be a whole number')
    return min(max(value, low), high)


def _select(value: Any, where: str) -> tuple[str, int]:
    if not (isinstance(value, list) and len(value) == 2 and value[0] in TARGETS
            and isinstance(value[1], int) and not isinstance(value[1], bool)
            and value[1] >= 1):
        raise InputError(f'{where}: "select" must be [one of {", ".join(TARGETS)}, a '
                         "component from 1]")
    return value[0], value[1] - 1


# -- messages on the wire --------------------------------------------------------------------


def encode(data: dict[str, Any]) -> bytes:
    """One line of compact JSON."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode() + b"\n"


def message(lesson: str, seq: int, **body: Any) -> bytes:
    """A message of the lesson `lesson`: a "state", a "marker" or the "end"."""
    return encode({"format": FORMAT, "version": VERSION, "lesson": lesson, "seq": seq, **body})


def read_message(line: bytes) -> dict[str, Any]:
    """A message's JSON object, its envelope checked; InputError says why it is junk.

    Its kind is the first of KINDS it holds; one of none (a later version's) is kept for
    the caller to pass over."""
    if len(line) > MAX_MESSAGE:
        raise InputError(f"{len(line)} bytes, more than the {MAX_MESSAGE} a message may have")
    if b"\n" in line.removesuffix(b"\n"):
        raise InputError("more than one line")
    try:
        data = parse_json(line, parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise InputError("not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'not a gru-tui lesson message (no "format": "{FORMAT}")')
    version, lesson, seq = data.get("version"), data.get("lesson"), data.get("seq")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError('"version" must be a whole number from 1')
    if not isinstance(lesson, str) or not lesson or len(lesson) > 64:
        raise InputError('"lesson" must name the lesson')
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise InputError('"seq" must be a whole number')
    if "marker" in data and not isinstance(data["marker"], str):
        raise InputError('"marker" must be a note')
    if "state" in data and not isinstance(data["state"], dict):
        raise InputError('"state" must be an object')
    return data


def kind(data: dict[str, Any]) -> str | None:
    """"state", "marker", "end", or None for a kind this version does not know."""
    return next((name for name in KINDS if name in data), None)


def newer(data: dict[str, Any], than: dict[str, Any] | None) -> bool:
    """Whether a message comes after another: a new lesson, or a later one of the same."""
    return than is None or data["lesson"] != than["lesson"] or data["seq"] > than["seq"]


def note(text: str) -> str:
    """A marker's note: one line of printable characters, at most MAX_NOTE of them."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:MAX_NOTE]
