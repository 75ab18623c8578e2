"""Errors a user's choices can cause while building a timeline."""


class SettingsError(ValueError):
    """A scene setting the user chose is invalid (unknown object, unloadable source, bad file).

    The message is one line that says what was wrong and how to fix it; render.py prints it and
    exits with status 2 before anything is written.
    """
