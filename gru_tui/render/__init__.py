"""Everything drawn with rich, and nothing of Textual: the theme (names, symbols, colours,
defined once), bars, heat strips, the one value formatter, the panels' rows and the `step`
console view. The app paints these; the command line prints them.
"""
