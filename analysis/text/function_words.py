"""Function words: the closed-class words a formula candidate may not begin or end with.

English has its own short list (articles, pronouns, prepositions, conjunctions,
auxiliaries, determiners, quantifiers): the stopwords-iso list (1,298 words) also holds
content words that begin formulae (``general and complete disarmament``,
``new international economic order``, ``right to self-determination``,
``least developed countries``). Other languages use :func:`analysis.text.analyzer.stopwords`.
Forms are normalised like the corpus (``norm`` mode).
"""

from __future__ import annotations

from functools import lru_cache

from .analyzer import stopwords
from .normalise import normalise

ENGLISH = """
a an the this that these those such what which who whom whose whatever whichever
i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves one
am is are was were be been being have has had having do does did doing will would shall
should can could may might must ought need dare
and or but nor so yet for if then else than because as while whereas although though
unless until till since whether either neither both not no only also too very just
of to in on at by with from into onto upon about above below under over between among
amongst through throughout during before after against without within along across
behind beyond toward towards around near off out up down via per despite except
all any some each every few many much more most other another several own same
there here where when why how whereby wherein thereby therefore thus hence however
again once ever never still even already now rather quite almost perhaps indeed often
always sometimes ago
let
""".split()


@lru_cache(maxsize=8)
def function_words(language: str) -> frozenset[str]:
    """The closed-class words of ``language`` (normalised; see the module docstring)."""
    if language == "en":
        return frozenset(normalise(w, "en") for w in ENGLISH)
    return stopwords(language)
