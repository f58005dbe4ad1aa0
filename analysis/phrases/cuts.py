"""Where the merged suffix array is cut into pieces (:func:`piece_cuts`): the plan of
:func:`analysis.phrases.shards.shards_merge_suffix`, on the tokens before each first word."""

from __future__ import annotations

import numpy as np


def piece_cuts(before: np.ndarray, n_pieces: int) -> np.ndarray:
    """The first ids of at most ``n_pieces`` pieces whose largest is as small as word
    boundaries allow (``before``: the tokens before each id, and their total last): the
    least size ``m`` for which filling each piece up to ``m`` tokens, in id order, needs
    ``n_pieces`` or fewer (binary search; a word larger than ``m`` is a piece alone).

    The largest piece bounds a piece's memory and, with the workers' rounds, the step's
    time. ungdc in 10 pieces: 3.57 M tokens at most, where the nearer boundary to each
    equal share gave 4.67 M (*the*, 2.8 M, beside a share's boundary); in 9: 3.91 M
    against 4.0 M. The first boundary after each share gave 5.9 M."""
    n, top = int(before[-1]), len(before) - 1
    if n_pieces <= 1 or n == 0:
        return np.array([0, top])

    def fill(m: int) -> list[int]:
        cuts = [0]
        while cuts[-1] < top:
            c = cuts[-1]
            cuts.append(min(top, max(int(np.searchsorted(before, before[c] + m, side="right")) - 1, c + 1)))
        return cuts

    lo, hi = -(-n // n_pieces), n
    while lo < hi:
        mid = (lo + hi) // 2
        if len(fill(mid)) - 1 <= n_pieces:
            hi = mid
        else:
            lo = mid + 1
    return np.array(fill(lo))
