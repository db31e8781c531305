"""The one exception for bad data from a user."""


class InputError(ValueError):
    """Bad values, rows, files or shapes: the message is one line naming what and where."""
