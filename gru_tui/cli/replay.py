"""`gru-tui replay FILE.jsonl`: a lesson recording (`--record`) played in the app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def replay(
    file: Annotated[Path, typer.Argument(metavar="FILE.jsonl", help="A recording made with "
                                         "--record.", show_default=False)],
) -> None:
    """Play a lesson recording in the app, as the class saw it live.

    Space plays it in real time (> faster, < slower), [ and ] jump between the teacher's
    markers, f breaks away to explore from that moment and f again rejoins. Outside a
    terminal, prints what the recording holds.
    """
    from gru_tui.cli.run import app_can_run
    from gru_tui.core.recording import read_recording

    recording = read_recording(file)
    if not app_can_run():
        print_summary(recording)
        return
    from gru_tui.app.app import GruTuiApp
    from gru_tui.app.lesson import ReplayFeed

    first = recording.states[0][1]
    GruTuiApp(first.scenario, t=first.t, unit=first.unit, visible=first.scenario.models,
              follow=ReplayFeed(recording)).run()


def print_summary(recording) -> None:
    from gru_tui.core.recording import clock

    markers = recording.markers
    print(f"{recording.path}: {len(recording.states)} states over "
          f"{clock(recording.duration)}, {len(markers)} marker{'' if len(markers) == 1 else 's'}")
    for at, note in markers:
        print(f"  {clock(at):>7}  {note}")
