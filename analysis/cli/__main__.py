"""``python -m analysis.cli``: the same as the ``formulae`` command."""

from .app import entry

entry()
