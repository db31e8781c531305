"""The headless model: what the command line, the app and scripts share; no UI library here."""
