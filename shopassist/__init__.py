"""Shared core of the shopping assistant: settings, errors, offline model locations and the CLI.

Public face: :class:`shopassist.settings.Settings` (read with :func:`get_settings`),
:mod:`shopassist.errors` and the ``shopassist`` command.
"""

__version__ = "0.1.0"
