"""The command line (``formulae``): the app and one module per command group."""

from .app import app, entry, main

__all__ = ["app", "entry", "main"]
