"""The app's own Textual theme: projector mode, for a room where the back row reads a projected
terminal. Black on white, no muted or dim text; the bars' colours are render.theme's
projector palette."""

from __future__ import annotations

from textual.app import App
from textual.theme import Theme

from gru_tui.render.theme import palette

PROJECTOR_THEME = "gru-tui-projector"
INK = "#000000"

PROJECTOR = Theme(
    name=PROJECTOR_THEME,
    primary="#00307A",
    secondary="#00307A",
    accent="#B00060",
    warning="#8A4B00",
    error="#A00000",
    success="#006B4F",
    foreground=INK,
    background="#FFFFFF",
    surface="#FFFFFF",
    panel="#E4E4E4",
    boost="#F0F0F0",
    dark=False,
    text_alpha=1.0,
    variables={
        "text": INK, "text-muted": INK, "text-disabled": INK,
        "foreground-muted": INK, "foreground-disabled": INK,
        "text-primary": "#00307A", "text-secondary": "#00307A", "text-accent": "#B00060",
        "footer-foreground": INK, "footer-description-foreground": INK,
        "footer-key-foreground": "#00307A", "footer-background": "#E4E4E4",
        "border": "#00307A", "border-blurred": INK,
        "input-cursor-background": INK, "input-cursor-foreground": "#FFFFFF",
        "block-cursor-foreground": "#FFFFFF", "block-cursor-background": "#00307A",
        "block-cursor-blurred-foreground": INK, "block-cursor-blurred-background": "#C8D4E8",
    },
)


def app_palette(app: App) -> dict[str, str]:
    """The bars' colours and text styles for the app's current theme."""
    return palette(app.current_theme.dark, projector=app.theme == PROJECTOR_THEME)
