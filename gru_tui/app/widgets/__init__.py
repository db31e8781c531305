"""The main screen's widgets, one per module; each draws with gru_tui.render and redraws
only when the main screen's reactives it is bound to change, and then only the lines that
changed."""

from gru_tui.app.widgets.base import Panel, View
from gru_tui.app.widgets.counter import StepCounter
from gru_tui.app.widgets.inputs import InputPanel
from gru_tui.app.widgets.memory import MemoryPanel
from gru_tui.app.widgets.model_panel import ModelPanel
from gru_tui.app.widgets.status import StatusBar
from gru_tui.app.widgets.timeline import Timeline

__all__ = ["InputPanel", "MemoryPanel", "ModelPanel", "Panel", "StatusBar", "StepCounter",
           "Timeline", "View"]
