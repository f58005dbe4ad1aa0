"""Measures: association, keyness, dispersion, intervals, bursts and change points.

Pure functions with no dependency on the rest of the package, so every stage may use
them. Each measure comes twice: a scalar (:mod:`.scalar`, the oracle and the worked
examples) and a polars expression or frame function (:mod:`.frames`) computing the
same value column-wise.
"""

from .frames import *  # noqa: F403
from .frames import __all__ as _frames_all
from .scalar import *  # noqa: F403
from .scalar import __all__ as _scalar_all

__all__ = [*_scalar_all, *_frames_all]
