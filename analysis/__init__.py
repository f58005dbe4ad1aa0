"""formulae: comparative discourse analysis of diplomatic statements.

The package is a pipeline of a few nouns, one module each:

corpus (statements snapshot) -> text/tokens -> phrases (index) -> formulae -> stats -> plots/report

Importing the package has no side effects and imports nothing heavy.
"""

__version__ = "0.1.0"
