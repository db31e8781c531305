"""The app's screens, one per module: the main screen and the dialogs over it."""

from gru_tui.app.screens.diagram import DiagramScreen
from gru_tui.app.screens.help import HelpScreen
from gru_tui.app.screens.info import InfoScreen
from gru_tui.app.screens.lab import LabScreen
from gru_tui.app.screens.load import LoadScreen
from gru_tui.app.screens.main import MainScreen
from gru_tui.app.screens.note import NoteScreen
from gru_tui.app.screens.offsets import OffsetsScreen
from gru_tui.app.screens.parameters import ParametersScreen
from gru_tui.app.screens.presets import PresetScreen
from gru_tui.app.screens.value import ValueScreen
from gru_tui.app.screens.worked import WorkedScreen

__all__ = ["DiagramScreen", "HelpScreen", "InfoScreen", "LabScreen", "LoadScreen", "MainScreen",
           "NoteScreen",
           "OffsetsScreen", "ParametersScreen", "PresetScreen", "ValueScreen", "WorkedScreen"]
