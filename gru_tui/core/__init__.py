"""The headless model: what to run (scenario, presets, the shipped examples, session files),
what the app shows and does (the explorer, the worked example) and the JSON Lines records.

No UI library is imported here; the command line, the app and scripts share all of it.
"""
