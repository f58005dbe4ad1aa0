"""``python -m analysis.cli``: the same as the ``formulae`` command."""

from .app import main

main()
