"""Matching lexicon formulae and token sequences on a corpus's form streams.

What a match is:

* ``phrase``: the expanded token sequences (alternatives × optional words × gap lengths,
  at most :data:`analysis.formulae.lexicon.MAX_EXPANSIONS`) occurring consecutively
  inside one sentence.
* ``all``: an occurrence of the first item with an occurrence of every other item in the
  same sentence such that the whole span (first token of the leftmost item to last token
  of the rightmost) is at most ``window`` tokens; counted once per first-item occurrence.
* A formula's occurrences are the union over its patterns; overlapping spans within a
  statement are merged and count once.

Output columns of :func:`formulae_match` (one row per formula occurrence):
``formula`` (id), ``doc``, ``sent``, ``pos`` (first piece), ``pos_end`` (last piece),
``start``/``end`` (code-point offsets into the verbatim text), ``patterns`` (sorted list of
the pattern indices that matched there).

The membership rule of variant families is here too: :func:`core_match` (one wording
against a seed's core, the documented rule) and :func:`match_table` (the same for many
wordings at once, in numpy; a property test holds it equal to the polars joins it replaced).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..phrases.index import Layers, PhraseIndex
from ..phrases.query import sequences_located
from ..phrases.view import CorpusView, corpus_view
from ..text.pattern import pattern_parse, pattern_sequences
from ..vocab import default_level
from .lexicon import Lexicon, lexicon_load

# ----------------------------------------------------------------------- matching


def stream_prepare(stream) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collect a form stream into (tokens, vocab) for :func:`sequences_find`.

    tokens: doc, sent, pos, start, end, fid (UInt32 form id), sorted by (doc, pos);
    vocab: form, fid. Do this once per stream and reuse it for many searches.
    """
    lf = stream.lazy().select("doc", "sent", "pos", "start", "end", "form")
    vocab = (lf.select(pl.col("form").unique()).sort("form")
             .with_row_index("fid").collect())
    toks = (lf.join(vocab.lazy(), on="form", how="left")
            .select("doc", "sent", "pos", "start", "end", pl.col("fid").cast(pl.UInt32))
            .sort("doc", "pos").collect())
    return toks, vocab.select("form", pl.col("fid").cast(pl.UInt32))


_FOUND = {"seq": pl.UInt32, "doc": pl.UInt32, "sent": pl.UInt32, "pos": pl.UInt32,
          "pos_end": pl.UInt32, "start": pl.UInt32, "end": pl.UInt32}


def sequences_find(prepared: tuple[pl.DataFrame, pl.DataFrame] | PhraseIndex | Layers,
                   sequences: Mapping[int, tuple[str | None, ...]]) -> pl.DataFrame:
    """All occurrences of fixed token sequences (``None`` = any one token) in a stream.

    ``prepared`` comes from :func:`stream_prepare`, or is a phrase index (or its layers),
    whose suffix array finds them (:func:`analysis.phrases.query.sequences_located`: the
    same rows, without the corpus's stream); ``sequences`` maps an integer key to a
    sequence of forms. A sequence occurs where its forms sit at consecutive positions
    inside one sentence. Returns (seq, doc, sent, pos, pos_end, start, end), sorted.
    """
    if isinstance(prepared, (PhraseIndex, Layers)):
        return (pl.DataFrame(sequences_located(prepared, dict(sequences))).cast(_FOUND)
                .sort("seq", "doc", "pos", "pos_end"))
    toks, vocab = prepared
    if not sequences or toks.height == 0:
        return pl.DataFrame(schema=_FOUND)
    fid_of = dict(zip(vocab["form"].to_list(), vocab["fid"].to_list(), strict=True))
    groups: dict[tuple[int, tuple[int, ...]], list[tuple[int, tuple[int, ...]]]] = {}
    for key, seq in sequences.items():
        if any(s is not None and s not in fid_of for s in seq):
            continue  # a form never seen in the corpus: no match possible
        fixed = tuple(j for j, s in enumerate(seq) if s is not None)
        ids = tuple(fid_of[seq[j]] for j in fixed)
        groups.setdefault((len(seq), fixed), []).append((key, ids))
    n = toks.height
    doc, sent, fid = toks["doc"], toks["sent"], toks["fid"]
    parts = []
    for (length, fixed), members in sorted(groups.items()):
        first_ids = pl.Series(sorted({ids[0] for _, ids in members}), dtype=pl.UInt32)
        idx = toks.select(pl.arg_where(pl.col("fid").is_in(first_ids.implode()))).to_series()
        idx = idx.filter(idx + (length - 1) < n)
        if idx.len() == 0:
            continue
        last = idx + (length - 1)
        ok = (doc.gather(last) == doc.gather(idx)) & (sent.gather(last) == sent.gather(idx))
        idx = idx.filter(ok)
        cand = pl.DataFrame({f"f{j}": fid.gather(idx + j) for j in fixed}).with_columns(
            idx.alias("_i"))
        keys = pl.DataFrame(
            {"seq": [k for k, _ in members],
             **{f"f{j}": [ids[m] for _, ids in members] for m, j in enumerate(fixed)}},
            schema={"seq": pl.UInt32, **{f"f{j}": pl.UInt32 for j in fixed}},
        )
        hit = cand.join(keys, on=[f"f{j}" for j in fixed], how="inner")
        parts.append(hit.select("seq", "_i", pl.lit(length - 1, pl.UInt32).alias("_span")))
    if not parts:
        return pl.DataFrame(schema=_FOUND)
    hits = pl.concat(parts)
    i, j = hits["_i"], hits["_i"] + hits["_span"]
    return pl.DataFrame({
        "seq": hits["seq"], "doc": doc.gather(i), "sent": sent.gather(i),
        "pos": toks["pos"].gather(i), "pos_end": toks["pos"].gather(j),
        "start": toks["start"].gather(i), "end": toks["end"].gather(j),
    }).cast(_FOUND).sort("seq", "doc", "pos", "pos_end")


def _forms_fn(analyzer, level: str, words: Sequence[str] = ()) -> Callable[[str], list[str]]:
    """A word's forms at ``level`` (memoised; ``words`` made at once, in one pass)."""
    cache = dict(zip(words, analyzer.query_forms_many(list(words), level), strict=True)) if words else {}

    def to_forms(word: str) -> list[str]:
        if word not in cache:
            cache[word] = list(analyzer.query_forms(word, level))
        return cache[word]

    return to_forms


def _compile(lexicon: Lexicon, analyzer, level: str):
    """Expand every pattern into sequences, grouped by level.

    Returns (seqs_by_level, meta): seqs_by_level[level][seq_key] = sequence;
    meta rows (seq, formula, pattern, item, level).
    """
    seqs: dict[str, dict[int, tuple[str | None, ...]]] = {}
    meta: list[dict[str, Any]] = []
    words: dict[str, set[str]] = {}  # each level's words, made into forms in one pass
    for f in lexicon.formulae:
        for p in f.patterns:
            for item in p.items:
                with contextlib.suppress(ValueError):  # (raised with its line below)
                    for kind, val in pattern_parse(item):
                        words.setdefault(p.level or f.level or level, set()).update(
                            [val] if kind == "word" else val[0] if kind == "alt" else [])
    fns = {lv: _forms_fn(analyzer, lv, sorted(w)) for lv, w in words.items()}
    key = 0
    for f in lexicon.formulae:
        for pi, p in enumerate(f.patterns):
            lv = p.level or f.level or level
            fn = fns.setdefault(lv, _forms_fn(analyzer, lv))
            for ii, item in enumerate(p.items):
                try:
                    expanded = pattern_sequences(item, fn)
                except ValueError as exc:
                    raise FormulaeError(f"formula {f.id!r}: {exc}", file=lexicon.path,
                                        line=p.line) from None
                for s in expanded:
                    seqs.setdefault(lv, {})[key] = s
                    meta.append({"seq": key, "formula": f.id, "pattern": pi, "item": ii,
                                 "level": lv})
                    key += 1
    return seqs, meta


def formulae_match(lexicon: Lexicon, streams: Mapping[str, Any], analyzer, *,
                   level: str) -> pl.DataFrame:
    """Every occurrence of every lexicon formula in the form streams.

    ``lexicon`` should already be restricted to the corpus language
    (:meth:`Lexicon.for_language`); ``streams`` maps each level the patterns need
    (``level`` plus any pattern-specific level) to its form stream, or to the result of
    :func:`stream_prepare` (reuse it across calls). Columns: see the module docstring.
    """
    seqs, meta = _compile(lexicon, analyzer, level)
    schema = {"seq": pl.UInt32, "formula": pl.String, "pattern": pl.UInt32,
              "item": pl.UInt32, "level": pl.String}
    meta_df = pl.DataFrame(meta, schema=schema)
    hits = []
    for lv, table in sorted(seqs.items()):
        if lv not in streams:
            raise FormulaeError(f"formulae_match: no form stream for level {lv!r} "
                                f"(given: {', '.join(sorted(streams))})")
        prepared = (streams[lv] if isinstance(streams[lv], (tuple, PhraseIndex, Layers))
                    else stream_prepare(streams[lv]))
        hits.append(sequences_find(prepared, table))
    occ = (pl.concat(hits) if hits else sequences_find((pl.DataFrame(), pl.DataFrame()), {}))
    occ = occ.join(meta_df, on="seq", how="inner").drop("seq", "level")
    kinds = pl.DataFrame(
        [{"formula": f.id, "pattern": i, "kind": p.kind, "n_items": len(p.items),
          "window": p.window, "ordered": p.ordered}
         for f in lexicon.formulae for i, p in enumerate(f.patterns)],
        schema={"formula": pl.String, "pattern": pl.UInt32, "kind": pl.String,
                "n_items": pl.UInt32, "window": pl.UInt32, "ordered": pl.Boolean},
    )
    occ = occ.join(kinds, on=["formula", "pattern"], how="left")
    phrase = occ.filter(pl.col("kind") == "phrase").select(_OCC_COLS)
    sets = _match_all(occ.filter(pl.col("kind") == "all"))
    return _merge_spans(pl.concat([phrase, sets]))


_OCC_COLS = ["formula", "pattern", "doc", "sent", "pos", "pos_end", "start", "end"]


def _match_all(occ: pl.DataFrame) -> pl.DataFrame:
    """Combine item occurrences of ``all`` patterns into matches (see module docstring)."""
    if occ.height == 0:
        return occ.select(_OCC_COLS)
    occ = occ.unique(["formula", "pattern", "item", "doc", "pos", "pos_end"])
    anchors = occ.filter(pl.col("item") == 0).select(
        "formula", "pattern", "doc", "sent", "window", "ordered", "n_items",
        pl.col("pos").alias("a_pos"), pl.col("pos_end").alias("a_end"),
        pl.col("pos").alias("lo"), pl.col("pos_end").alias("hi"),
        pl.col("start").alias("s_lo"), pl.col("end").alias("e_hi"),
        pl.col("pos_end").alias("prev_end"),
    )
    max_items = int(occ["n_items"].max())
    cur = anchors
    for item in range(1, max_items):
        others = occ.filter(pl.col("item") == item).select(
            "formula", "pattern", "doc", "sent", pl.col("pos").alias("i_pos"),
            pl.col("pos_end").alias("i_end"), pl.col("start").alias("i_s"), pl.col("end").alias("i_e"))
        done = cur.filter(pl.col("n_items") <= item)
        todo = cur.filter(pl.col("n_items") > item)
        j = todo.join(others, on=["formula", "pattern", "doc", "sent"], how="inner")
        lo = pl.min_horizontal("lo", "i_pos")
        hi = pl.max_horizontal("hi", "i_end")
        apart = (pl.col("i_end") < pl.col("a_pos")) | (pl.col("i_pos") > pl.col("a_end"))
        after_prev = pl.col("i_pos") > pl.col("prev_end")
        j = j.filter(apart & ((hi - lo + 1) <= pl.col("window"))
                     & (~pl.col("ordered") | after_prev))
        dist = (pl.col("i_pos").cast(pl.Int64) - pl.col("a_pos").cast(pl.Int64)).abs()
        j = (j.with_columns(dist.alias("_d"))
             .sort("formula", "pattern", "doc", "a_pos", "_d", "i_pos")
             .unique(["formula", "pattern", "doc", "a_pos"], keep="first", maintain_order=True)
             .with_columns(lo.alias("lo"), hi.alias("hi"),
                           pl.min_horizontal("s_lo", "i_s").alias("s_lo"),
                           pl.max_horizontal("e_hi", "i_e").alias("e_hi"),
                           pl.col("i_end").alias("prev_end"))
             .select(cur.columns))
        cur = pl.concat([done, j])
    return cur.select("formula", "pattern", "doc", "sent", pl.col("lo").alias("pos"),
                      pl.col("hi").alias("pos_end"), pl.col("s_lo").alias("start"),
                      pl.col("e_hi").alias("end"))


def _merge_spans(occ: pl.DataFrame) -> pl.DataFrame:
    """Merge overlapping occurrences of one formula in one statement into one row."""
    occ = occ.cast({"pattern": pl.UInt32, "doc": pl.UInt32, "sent": pl.UInt32, "pos": pl.UInt32,
                    "pos_end": pl.UInt32, "start": pl.UInt32, "end": pl.UInt32})
    occ = occ.sort("formula", "doc", "pos", "pos_end", "pattern")
    # a new block where a (formula, doc) starts or the row begins after every end before it
    # in its (formula, doc): the running maximum of (the pair's number, end) over all rows,
    # one pass, where a window over the pairs took 26 ms of ungdc's 33 (16,661 rows)
    first = ((pl.col("formula") != pl.col("formula").shift(1)) | (pl.col("doc") != pl.col("doc").shift(1))).fill_null(True)
    pair = first.cast(pl.UInt64).cum_sum() * (1 << 32)
    reach = (pair + pl.col("pos_end").cast(pl.UInt64)).cum_max().shift(1)
    new = first | ((pair + pl.col("pos").cast(pl.UInt64)) > reach)
    occ = occ.with_columns(new.cast(pl.UInt32).cum_sum().alias("_block"))
    return (occ.group_by("_block", maintain_order=True)
            .agg(pl.col("formula").first(), pl.col("doc").first(), pl.col("sent").first(),
                 pl.col("pos").min(), pl.col("pos_end").max(), pl.col("start").min(),
                 pl.col("end").max(), pl.col("pattern").unique().sort().alias("patterns"))
            .drop("_block").sort("formula", "doc", "pos"))


def formulae_counts(matches: pl.DataFrame) -> pl.DataFrame:
    """Per statement counts of each formula: (formula, doc, occurrences)."""
    return (matches.group_by("formula", "doc").agg(pl.len().cast(pl.UInt32).alias("occurrences"))
            .sort("formula", "doc"))


def formulae_totals(view: CorpusView, matches: pl.DataFrame) -> pl.DataFrame:
    """Per formula totals of :func:`formulae_find`'s matches: ``formula``, ``statements``,
    ``occurrences``, ``first_date``, ``first_id``, ``last_date``, ``last_id`` (first and last
    attestation in snapshot order, dates as text at their precision: ``1947``, ``2015-07-21``;
    null when no match is dated). Sorted by statements (descending), then formula."""
    from ..ingest.periods import date_label_expr

    dated = (matches.select("formula", "doc").unique()
             .join(view.statements.select("doc", "id", "date", "date_precision"), on="doc", how="left")
             .filter(pl.col("date").is_not_null()).sort("formula", "doc")
             .with_columns(date_label_expr().alias("date")))
    ends = dated.group_by("formula").agg(
        pl.col("date").first().alias("first_date"), pl.col("id").first().alias("first_id"),
        pl.col("date").last().alias("last_date"), pl.col("id").last().alias("last_id"))
    totals = matches.group_by("formula").agg(pl.col("doc").n_unique().cast(pl.UInt32).alias("statements"),
                                             pl.len().cast(pl.UInt32).alias("occurrences"))
    return (totals.join(ends, on="formula", how="left")
            .sort(["statements", "formula"], descending=[True, False]))


def formulae_dated(view: CorpusView, matches: pl.DataFrame) -> pl.DataFrame:
    """:func:`formulae_find`'s matches with ``date`` as text at its precision (``1946``)."""
    from ..ingest.periods import date_label_expr

    prec = view.statements.select("doc", "date_precision")
    return (matches.join(prec, on="doc", how="left", maintain_order="left")
            .with_columns(date_label_expr().alias("date")).drop("date_precision"))


def formulae_find(corpus: str | CorpusView, *, store=None, lexicon: Lexicon | None = None,
                  level: str | None = None, formulae: list[str] | None = None,
                  verbatim: bool = True) -> pl.DataFrame:
    """Match the lexicon (default ``corpus/formulae.yml``) on a corpus.

    Returns :func:`formulae_match`'s occurrences plus ``id``, ``source``, ``date`` and the
    matched verbatim ``text`` (not read with ``verbatim`` False, unless the matches are
    kept with it already). ``formulae`` restricts to some ids.
    """
    view = corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)
    lex = (lexicon or lexicon_load()).for_language(view.language)
    level = level or default_level(view.language)
    wanted = [lex.get(f).id for f in formulae or ()]  # unknown ids are an error
    # A lexicon read from a file (it has a hash) is matched once per view, level, subset
    # and text, and kept: formulae match independently, so a subset is a filter of a kept
    # whole, and matches with the text serve a caller that wants none. What is not kept
    # yet is matched as asked: one formula's timeline need not match the other sixty nor
    # read the statements' texts (ungdc, a process's first: 0.42 s -> 0.08-0.12 s), nor a
    # comparison's counts.
    ids = tuple(sorted(set(wanted))) if wanted else None
    if ids is not None:
        lex = Lexicon(tuple(lex.get(f) for f in ids), lex.path, lex.sha256)
    if lex.sha256 is None:
        return _find(view, lex, level, verbatim=verbatim)
    key = ("formulae_find", lex.sha256, level)
    for part in (None, ids) if ids is not None else (None,):
        for text in (True, False) if not verbatim else (True,):
            got = view.cache.get((*key, part, text))
            if got is not None:
                return got.filter(pl.col("formula").is_in(ids)) if part is None and ids is not None else got
    view.cache[(*key, ids, verbatim)] = _find(view, lex, level, verbatim=verbatim)
    return view.cache[(*key, ids, verbatim)]


def _find(view: CorpusView, lex: Lexicon, level: str, *, verbatim: bool) -> pl.DataFrame:
    levels = {level} | {p.level or f.level or level for f in lex.formulae for p in f.patterns}
    streams = {lv: view.tokens_index(lv) for lv in sorted(levels)}  # found in the suffix arrays
    occ = formulae_match(lex, streams, view.analyzer, level=level)
    if verbatim:  # the matched wording, from the texts store
        occ = occ.with_columns(pl.Series("text", view.spans_text(occ["doc"].to_numpy(), occ["start"].to_numpy(),
                                                                 occ["end"].to_numpy()), pl.String))
    occ = occ.join(view.statements.select("doc", "id", "source", "date"), on="doc", how="left")
    return occ.sort("formula", "doc", "pos")


KINDS = ("exact", "permutation", "insertion", "substitution")  # the kinds of wording core_match tells


def core_match(seed: Sequence[str], wording: Sequence[str], core: Collection[str] = (),
               admitted: Collection[str] | None = None, *, max_insert: int = 2,
               max_subst: int = 1) -> tuple[str, list[str]] | None:
    """The membership rule of a family: does ``wording`` match the core of ``seed``?

    ``seed`` and ``wording`` are sequences of content forms (at the family level);
    ``core`` the forms that travel with the seed (step 2: they may surround it freely);
    ``admitted`` the forms a phrase frame admits next to the seed (step 3; None: any
    form). Every form of the wording that is neither a seed form nor a core form is a
    *change*; the wording matches when, with ``m`` the seed forms it lacks and ``c`` its
    changes: ``m <= max_subst`` (a lacking form is substituted, never just dropped:
    ``c >= m``), ``c - m <= max_insert`` (the rest are insertions) and every change is
    admitted. Returns ``(kind, changes)`` or None; ``kind``: ``substitution`` (m > 0),
    ``insertion`` (c > 0), ``permutation`` (the seed forms in another order: first
    occurrences compared), else ``exact``. Order and repetition of seed and core forms
    never matter for membership, so a wording matches in order or permuted.
    """
    forms = set(seed)
    changes = [w for w in wording if w not in forms and w not in core]
    missing = len(forms - set(wording))
    if missing > max_subst or len(changes) < missing or len(changes) - missing > max_insert:
        return None
    if admitted is not None and any(w not in admitted for w in changes):
        return None
    if missing:
        return "substitution", changes
    if changes:
        return "insertion", changes
    rank = {w: i for i, w in reversed(list(enumerate(seed)))}
    seen = list(dict.fromkeys(w for w in wording if w in forms))
    return ("exact" if [rank[w] for w in seen] == sorted(rank[w] for w in seen) else "permutation"), []


def match_table(tokens: pl.DataFrame, roles: pl.DataFrame, p: dict) -> pl.DataFrame:
    """:func:`core_match` for many wordings at once: ``tokens`` (``g`` wording, ``seed`` its
    centre, ``fid`` a content form, ``i`` its place) -> per ``g``: ``ok``, ``kind`` and
    ``changes`` (the fids of the inserted or substituted forms, in order); ``roles``
    (:func:`core_roles`: one row a (seed, fid)) says what each form is to each seed.
    numpy over the tokens sorted by wording and place, polars only for the lists of
    changes (ungdc's families: 3.2 M tokens, 1.3 M wordings, 4.3 -> 1.0 s against the
    polars joins and list aggregations it replaces). Rows by ``g``; a wording whose seed
    has no form of its own in ``roles`` is left out."""
    g_in, fid_dtype = tokens["g"], tokens.schema["fid"]
    gv, iv = g_in.to_numpy().astype(np.int64), tokens["i"].to_numpy().astype(np.int64)
    lo_i = int(iv.min(initial=0))
    span = int(iv.max(initial=0)) - lo_i + 1
    if int(gv.min(initial=0)) >= 0 and int(gv.max(initial=0)) < (1 << 62) // span:  # one key: linear where sorted
        o = np.argsort(gv * span + (iv - lo_i), kind="stable")
    else:
        o = np.lexsort((iv, gv))
    gv, sd, f = gv[o], tokens["seed"].to_numpy().astype(np.int64)[o], tokens["fid"].to_numpy().astype(np.int64)[o]
    rs, rf = roles["seed"].to_numpy().astype(np.int64), roles["fid"].to_numpy().astype(np.int64)
    rr, rk = roles["role"].to_numpy().astype(np.int64), roles["rank"].fill_null(-1).to_numpy().astype(np.int64)
    us, n_own = np.unique(rs[rr == 0], return_counts=True)  # each seed's own forms
    width = max(int(f.max(initial=0)), int(rf.max(initial=0))) + 1
    rkey = rs * width + rf
    ro = np.argsort(rkey, kind="stable")
    rkey, rr, rk = rkey[ro], rr[ro], rk[ro]
    key = sd * width + f
    role, rank = np.full(len(key), -1, np.int64), np.full(len(key), -1, np.int64)
    if len(rkey):
        j = np.minimum(np.searchsorted(rkey, key), len(rkey) - 1)
        hit = rkey[j] == key
        role[hit], rank[hit] = rr[j[hit]], rk[j[hit]]
    new = np.ones(len(gv), bool)
    new[1:] = gv[1:] != gv[:-1]
    starts = np.flatnonzero(new)
    gid, ng = np.cumsum(new) - 1, len(starts)
    change = (role == -1) | (role == 2)  # not allowed, or admitted beside the seed
    c = np.bincount(gid, weights=change, minlength=ng).astype(np.int64)
    bad = np.bincount(gid, weights=role == -1, minlength=ng).astype(np.int64)
    own = np.flatnonzero(role == 0)
    pairs, first = np.unique(gid[own] * width + f[own], return_index=True)  # (wording, seed form), first place
    hits = np.bincount(pairs // width, minlength=ng).astype(np.int64)
    at = own[np.sort(first)]  # each seed form's first place, in order: its rank must rise
    rg, rn = gid[at], rank[at]
    fall = (rg[1:] == rg[:-1]) & (rn[1:] <= rn[:-1])
    in_order = np.bincount(rg[1:][fall], minlength=ng) == 0
    seed_g = sd[starts]
    k = np.minimum(np.searchsorted(us, seed_g), max(len(us) - 1, 0))
    known = us[k] == seed_g if len(us) else np.zeros(ng, bool)
    m = (n_own[k] if len(us) else np.zeros(ng, np.int64)) - hits
    ok = (m <= p["max_subst"]) & (c >= m) & (c - m <= p["max_insert"]) & (bad == 0)
    kind = np.where(m > 0, 3, np.where(c > 0, 2, np.where(in_order, 0, 1)))  # KINDS' order
    cg = gid[change]
    none = np.flatnonzero(np.bincount(cg, minlength=ng) == 0)  # an empty list each, from a null
    flat = pl.DataFrame({"_g": np.concatenate([cg, none]), "changes": pl.concat(
        [pl.Series(f[change]), pl.Series([None] * len(none), dtype=pl.Int64)])})
    lists = (flat.with_row_index("_o").sort("_g", "_o").group_by("_g", maintain_order=True)
             .agg(pl.col("changes").drop_nulls().cast(fid_dtype)))
    out = pl.DataFrame({"g": pl.Series(gv[starts]).cast(g_in.dtype), "ok": ok,
                        "kind": pl.Series(KINDS, dtype=pl.String).gather(kind), "changes": lists["changes"]})
    return out.filter(pl.Series(known))


def core_roles(seed_tok: pl.DataFrame, core: pl.DataFrame, adm: pl.DataFrame) -> pl.DataFrame:
    """(seed, fid) -> role: 0 a form of the seed (``rank``: its first place), 1 a core form,
    2 a form the frames admit beside the seed (a change allowed); absent: not allowed."""
    own = seed_tok.group_by("seed", "fid").agg(pl.col("i").min().alias("rank")).with_columns(pl.lit(0).alias("role"))
    other = pl.concat([core.with_columns(pl.lit(1).alias("role")), adm.with_columns(pl.lit(2).alias("role"))])
    other = other.select(pl.col("seed").cast(pl.UInt32), pl.col("fid").cast(pl.Int64), "role",
                         pl.lit(None, pl.Int64).alias("rank"))
    return (pl.concat([own.select("seed", "fid", "role", pl.col("rank").cast(pl.Int64)), other])
            .sort("seed", "fid", "role").unique(["seed", "fid"], keep="first"))


def seed_centres(n_seeds: int, pairs: pl.DataFrame) -> pl.DataFrame:
    """Seed-centred growth: seeds in order (most widespread first); a seed not yet taken
    becomes a centre and takes every untaken seed linked to *it* (a member never recruits),
    so a family never grows through a chain of neighbours. ``seed`` -> ``lab`` (its centre)."""
    lab = np.arange(n_seeds, dtype=np.int64)
    taken = np.zeros(n_seeds, bool)
    edges = pairs.select("seed", "other").sort("seed", "other")
    seed, other = edges["seed"].to_numpy().astype(np.int64), edges["other"].to_numpy().astype(np.int64)
    for s, o in zip(seed.tolist(), other.tolist(), strict=True):  # edges, not corpus rows
        if not taken[s] and not taken[o]:
            taken[o] = True
            lab[o] = s
    return pl.DataFrame({"seed": np.arange(n_seeds), "lab": lab}, schema={"seed": pl.UInt32, "lab": pl.UInt32})


def span_blocks(occ: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Sort spans by (keys, a, b) and number the runs of overlapping spans (``blk``).

    numpy: within each key group, a span opens a new block when it starts after the
    running maximum end of the spans before it (offset trick for a grouped running max).
    """
    g = np.zeros(occ.height, np.int64)
    for k in keys:
        col = occ[k].to_numpy().astype(np.int64)
        g = g * (int(col.max()) + 1 if len(col) else 1) + col
    a = occ["a"].to_numpy().astype(np.int64)
    b = occ["b"].to_numpy().astype(np.int64)
    order = _order_spans(g, a, b)
    g, a, b = g[order], a[order], b[order]
    big = int(b.max()) + 1 if len(b) else 1
    g_rank = np.concatenate(([0], np.cumsum(g[1:] != g[:-1]))) if len(g) else g
    run = np.maximum.accumulate(b + g_rank * big) - g_rank * big
    prev = np.concatenate(([-1], run[:-1]))
    new = np.ones(len(g), bool)
    if len(g):
        new[1:] = (g[1:] != g[:-1]) | (a[1:] > prev[1:])
    return occ[order].with_columns(pl.Series("blk", np.cumsum(new).astype(np.uint32)))


def _order_spans(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.lexsort((b, a, g))``, as one stable argsort of one
    key where (g, a, b - a) fit in 63 bits (3 M random spans in 11,000 groups: 1.1 -> 0.2 s)."""
    if not len(g):
        return np.zeros(0, np.int64)
    lo_a, span_a = int(a.min()), int(a.max()) - int(a.min()) + 1
    d = b - a
    span_d = int(d.max()) - int(d.min()) + 1
    if int(g.min()) < 0 or (int(g.max()) + 1) * span_a * span_d >= 1 << 62:
        return np.lexsort((b, a, g))
    return np.argsort((g * span_a + (a - lo_a)) * span_d + (d - int(d.min())), kind="stable")


def sorted_search(haystack: np.ndarray, needles: np.ndarray, side: Literal["left", "right"] = "left") -> np.ndarray:
    """``np.searchsorted(haystack, needles, side)`` with the needles searched in sorted order
    and the answers put back in theirs: consecutive searches then walk the same part of the
    haystack (1.2 M random needles in 16 M sorted positions: 1.28 -> 0.12 s; the families'
    two searches of ungdc's 1.27 M occurrences in its 12.8 M content positions took 1.8 s)."""
    order = np.argsort(needles, kind="stable")
    out = np.empty(len(needles), np.int64)
    out[order] = np.searchsorted(haystack, needles[order], side=side)
    return out
