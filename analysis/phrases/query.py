"""Queries on a built phrase index: counts over time (`query`), concordance (`kwic`),
the recurring-phrase table (`phrases`).

:func:`query_phrase` and :func:`query_kwic` are on the command line's critical path (< 0.5 s
for the whole process), so they run on numpy alone: memory-mapped arrays of the index, a
binary search in the suffix array, the query's words looked up in the index's surface map
(the exact forms the corpus got for that word; a pattern's words too, its wordings then
sequences of token ids), the concordance's texts from the texts store. Only a phrase with
a word the corpus never had (or punctuation, digits with separators, diacritics) takes the
slow path through the tokenizer and the Analyzer (polars), and so does ``--where``.

Result columns (``query``): ``period`` (label of the period: ``2015``, ``2015-Q3``,
``2015-07``, ``2015-07-20`` = Monday of the week, ``2015-07-21``; ``all`` without
``--by``), ``source``, ``statements`` (statements containing the phrase),
``occurrences``, ``tokens`` (all tokens of all statements of that period and source,
the rate's denominator), ``statements_total`` (all statements of that period and source),
``per_10k`` (occurrences per 10,000 tokens).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import FormulaeError
from ..ingest.periods import period_keys, period_label, period_label_expr
from ..ingest.where import sources_check
from ..result import Result
from ..text.pattern import is_pattern, pattern_sequences
from ..vocab import PERIOD_STEP, PERIODS, PHRASE_SORTS, PRECISIONS, check, precision_rank
from .index import Layers, PhraseIndex, index_load, index_notes, index_open
from .ranges import range_periods

_NULL_DAY = np.iinfo(np.int32).min
QUERY_COLUMNS = ("period", "source", "statements", "occurrences", "tokens", "statements_total", "per_10k")


def _day(value: str | None, name: str, end: bool) -> int | None:
    """ISO date (YYYY, YYYY-MM or YYYY-MM-DD) -> day number; ``end`` = last day of it."""
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        raise FormulaeError(f"{name} {value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    unit = {4: "Y", 7: "M", 10: "D"}[len(value)]
    try:
        d = np.datetime64(value, unit)  # type: ignore[call-overload]  # unit is Y, M or D
    except ValueError:
        raise FormulaeError(f"{name} {value!r} is not a valid date") from None
    if end:
        return int((d + 1).astype("datetime64[D]").astype(np.int64)) - 1
    return int(d.astype("datetime64[D]").astype(np.int64))


def _doc_filter(ix: PhraseIndex | Layers, source, date_from, date_to, distinct, where=None, store=None) -> tuple[np.ndarray, list[str]]:
    """Boolean mask of kept statements and notes on what was left out."""
    sources = ix.sources
    src = np.asarray(ix.array("doc_source"))
    keep = np.ones(len(src), bool)
    notes = []
    wanted = sources_check(source, sources, ix.corpus)
    if wanted:
        keep &= np.isin(src, [sources.index(s) for s in wanted])
    if where:  # the statement filter grammar needs the snapshot (and polars)
        from ..ingest.snapshot import corpus_load
        from ..ingest.where import filter_parse

        hit = corpus_load(ix.corpus, store).filter(filter_parse(where)).select("doc").collect()
        inside = np.zeros(len(src), bool)
        inside[hit["doc"].to_numpy()] = True
        notes.append(f"{int((keep & ~inside).sum())} statements excluded by --where {where!r}")
        keep &= inside
    if distinct:
        dup = np.asarray(ix.array("doc_dup"))
        if (dup & keep).any():
            notes.append(f"{int((dup & keep).sum())} statements excluded: duplicates of a statement under another source (--distinct)")
        keep &= ~dup
    lo, hi = _day(date_from, "--from", False), _day(date_to, "--to", True)
    if lo is not None and hi is not None and lo > hi:
        raise FormulaeError(f"--from {date_from} is after --to {date_to}")
    if lo is not None or hi is not None:
        day = np.asarray(ix.array("doc_day")).astype(np.int64)
        dated = day != _NULL_DAY
        inside = dated & (day >= (lo if lo is not None else day.min())) & (day <= (hi if hi is not None else day.max()))
        n_undated = int((keep & ~dated).sum())
        if n_undated:
            notes.append(f"{n_undated} undated statements excluded by --from/--to")
        keep &= inside
    return keep, notes


def phrase_positions(ix: PhraseIndex | Layers, phrase: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """First and last token positions of every match of ``phrase`` (a literal phrase or a
    pattern of :mod:`analysis.text.pattern`), sorted by start; and notes.

    A pattern matches where any of its sequences does (the union of its literal wordings);
    at one start position the longest match is kept. Syntax the grammar cannot read is a
    :class:`FormulaeError` naming it, never dropped. Over :class:`Layers`, each part's
    matches, at the whole's positions (no match spans two parts: a sentence never spans
    two statements)."""
    parts = ix.parts if isinstance(ix, Layers) else [(ix, 0, 0)]
    found = [_positions(part, phrase) for part, _, _ in parts]
    s = np.concatenate([f[0] + t0 for f, (_, _, t0) in zip(found, parts, strict=True)])
    e = np.concatenate([f[1] + t0 for f, (_, _, t0) in zip(found, parts, strict=True)])
    if found[0][3] is not None:  # a pattern: its wordings, the matches of all parts
        return s, e, [f"pattern: {found[0][3]} wordings, {len(s)} matches"]
    missing = all(f[2] for f in found)  # a word none of the parts has
    return s, e, ["a word of the phrase never occurs in the corpus at this level"] if missing else []


def _positions(ix: PhraseIndex, phrase: str) -> tuple[np.ndarray, np.ndarray, bool, int | None]:
    """:func:`phrase_positions` in one index: starts, ends, whether a word of a literal
    phrase is not in it, and a pattern's number of wordings (None: a literal phrase)."""
    empty = np.zeros(0, np.int64)
    if not is_pattern(phrase):
        ids, forms = ix.phrase_ids(phrase)
        if ids is None:
            return empty, empty, bool(forms), None
        pos = ix.find_ids(ids)
        return pos, pos + len(ids) - 1, False, None
    try:
        seqs = _pattern_ids(ix, phrase)
    except ValueError as exc:
        raise FormulaeError(f"phrase pattern {phrase!r}: {exc}") from None
    starts, ends = [empty], [empty]
    for seq in seqs:
        hit = _sequence_positions(ix, seq)
        if hit is not None:
            starts.append(hit)
            ends.append(hit + len(seq) - 1)
    s, e = np.concatenate(starts), np.concatenate(ends)
    order = np.lexsort((-e, s))
    s, e = s[order], e[order]
    first = np.ones(len(s), bool)
    first[1:] = s[1:] != s[:-1]
    return s[first], e[first], False, len(seqs)


def _pattern_ids(ix: PhraseIndex, phrase: str) -> list[tuple[int | None, ...]]:
    """A pattern's sequences as token ids: a word's from the index's surface map
    (:meth:`PhraseIndex.surface_ids`: no analyzer, no polars), else its forms' through the
    analyzer; a form the corpus never has gets an id of its own below 0 (its wording
    counts, and matches nothing)."""
    missing: dict[str, int] = {}

    def ids(word: str) -> list[int]:
        got = ix.surface_ids(word)
        if got is not None:
            return got.tolist()
        forms = ix.forms_of(word)
        known = ix.form_ids(forms)
        return [known[f] if f in known else missing.setdefault(f, -1 - len(missing)) for f in forms]

    return pattern_sequences(phrase, ids)


def _sequence_positions(ix: PhraseIndex, seq: tuple[int | None, ...]) -> np.ndarray | None:
    """Start positions of one fixed sequence of token ids (``None`` = any one token) inside
    a sentence; None when it holds a form the corpus never has (an id below 0)."""
    if any(f is not None and f < 0 for f in seq):
        return None
    return _id_positions(ix, list(seq))


def _id_positions(ix: PhraseIndex, seq: list[int | None]) -> np.ndarray:
    """Start positions of a sequence of token ids (``None`` = any one token; it starts
    with an id) inside a sentence: the suffix array's range of its leading ids, the rest
    checked at each position."""
    lead = 0
    while lead < len(seq) and seq[lead] is not None:
        lead += 1
    pos = ix.find_ids(np.array(seq[:lead], np.uint32))
    if lead == len(seq) or len(pos) == 0:
        return pos
    tokens = ix.array("ids")
    ss = np.asarray(ix.array("sent_starts"), np.int64)
    nxt = np.searchsorted(ss, pos, side="right")
    sent_end = np.where(nxt < len(ss), ss[np.minimum(nxt, len(ss) - 1)], len(tokens))
    ok = pos + len(seq) <= sent_end
    for j in range(lead, len(seq)):
        if seq[j] is not None:
            at = np.minimum(pos + j, len(tokens) - 1)
            ok &= np.asarray(tokens[at]) == seq[j]
    return pos[ok]


def sequences_located(ix: PhraseIndex | Layers, sequences: dict[int, tuple[str | None, ...]]) -> dict[str, np.ndarray]:
    """Every occurrence of fixed form sequences (``None`` = any one token; each starts and
    ends with a form) inside one sentence, found in the index's suffix array (a binary
    search for a sequence's leading forms, the rest checked at each match) instead of a
    pass over the corpus's form stream (:func:`analysis.formulae.match.sequences_find`,
    which this equals row for row). Over :class:`Layers`, each part's occurrences at the
    whole's statements, sentences and positions. Returns the columns ``seq`` (the key),
    ``doc``, ``sent`` (the sentence's number in the corpus), ``pos``, ``pos_end`` (within
    the statement), ``start``, ``end`` (offsets into the verbatim text), unsorted."""
    names = ("seq", "doc", "sent", "pos", "pos_end", "start", "end")
    cols: dict[str, list[np.ndarray]] = {k: [np.zeros(0, np.int64)] for k in names}
    forms = sorted({f for seq in sequences.values() for f in seq if f is not None})
    sentences = 0  # the sentences of the parts before
    for part, d0, _ in (ix.parts if isinstance(ix, Layers) else [(ix, 0, 0)]):
        fid = part.form_ids(forms)
        first = np.asarray(part.array("doc_first"), np.int64)
        ss = np.asarray(part.array("sent_starts"), np.int64)
        start, end = part.array("start"), part.array("end")
        for key, seq in sequences.items():
            if any(f is not None and f not in fid for f in seq):
                continue  # a form the part never has
            pos = _id_positions(part, [None if f is None else fid[f] for f in seq])
            if not len(pos):
                continue
            doc = part.doc_of(pos)
            last = pos + len(seq) - 1
            got = (np.full(len(pos), key), doc + d0, np.searchsorted(ss, pos, side="right") - 1 + sentences,
                   pos - first[doc], last - first[doc], np.asarray(start[pos]), np.asarray(end[last]))
            for k, col in zip(names, got, strict=True):
                cols[k].append(col.astype(np.int64))
        sentences += int(np.searchsorted(ss, len(part.array("ids"))))
    return {k: np.concatenate(v) for k, v in cols.items()}


def query_phrase(corpus: str, phrase: str, *, level: str | None = None, by: str | None = "year",
                 source=None, date_from: str | None = None, date_to: str | None = None,
                 distinct: bool = False, where: str | None = None, store=None) -> Result:
    """Statements, occurrences, tokens and rate per 10k tokens of ``phrase`` per period and source."""
    if by is not None:
        check("--by", by, PERIODS)
    if not phrase.strip():
        raise FormulaeError("the phrase is empty")
    ix = index_open(corpus, level, store)
    pos, _, found = phrase_positions(ix, phrase)
    keep, notes = _doc_filter(ix, source, date_from, date_to, distinct, where, store)
    notes = found + notes
    n_docs = len(keep)
    occ = np.bincount(ix.doc_of(pos), minlength=n_docs) if len(pos) else np.zeros(n_docs, np.int64)
    tokens = np.asarray(ix.array("doc_tokens"))
    src = np.asarray(ix.array("doc_source")).astype(np.int64)
    if by is None:
        period = np.zeros(n_docs, np.int64)
    else:
        day = np.asarray(ix.array("doc_day")).astype(np.int64)
        prec = np.asarray(ix.array("doc_prec"))
        undated = keep & (day == _NULL_DAY)
        coarse = keep & ~undated & (prec > precision_rank(by))
        if undated.any():
            notes.append(f"{int(undated.sum())} undated statements left out of the series "
                         f"({int(occ[undated].sum())} occurrences)")
        if coarse.any():
            notes.append(f"{int(coarse.sum())} statements dated more coarsely than --by {by} left out "
                         f"({int(occ[coarse].sum())} occurrences)")
        keep = keep & ~undated & ~coarse
        period = np.where(day == _NULL_DAY, 0, period_keys(np.where(day == _NULL_DAY, 0, day), by))
    k = np.flatnonzero(keep)
    key = period[k] * 100_000 + src[k]
    uniq, inv = np.unique(key, return_inverse=True)
    g = len(uniq)
    stats = {
        "statements": np.bincount(inv, weights=(occ[k] > 0), minlength=g).astype(np.int64),
        "occurrences": np.bincount(inv, weights=occ[k], minlength=g).astype(np.int64),
        "tokens": np.bincount(inv, weights=tokens[k], minlength=g).astype(np.int64),
        "statements_total": np.bincount(inv, minlength=g).astype(np.int64),
    }
    sources = ix.sources
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(stats["tokens"] > 0, stats["occurrences"] * 10_000 / np.maximum(stats["tokens"], 1), 0.0)
    columns = {
        "period": [period_label(int(u) // 100_000, by) for u in uniq],
        "source": [sources[int(u) % 100_000] if int(u) % 100_000 < len(sources) else None for u in uniq],
        **{name: v.tolist() for name, v in stats.items()},
        # a period whose statements have no token has no rate (empty, not 0)
        "per_10k": [round(float(x), 4) if t > 0 else None for x, t in zip(rate, stats["tokens"], strict=True)],
    }
    params = {"corpus": corpus, "phrase": phrase, "level": ix.level, "by": by, "source": source,
              "from": date_from, "to": date_to, "distinct": distinct, "where": where,
              "snapshot_sha256": ix.manifest["snapshot_sha256"]}
    return Result(columns, params, notes)


# --- concordance ----------------------------------------------------------------


KWIC_BREAK = r"\s*(?:\r\n|[\n\r\u2028\u2029])\s*"  # a line break and the white space around it


def kwic_context(width: int, *, text: str = "text", start: str = "start", end: str = "end"):
    """``before``, ``match``, ``after``: the verbatim ``text`` around code points
    ``[start, end)``, ``width`` either side, each line break (with the white space around
    it) shown as `` ¶ ``. The definition of a concordance line: the reports' lines; the
    CLI's ``kwic`` makes the same in plain Python (:func:`kwic_lines`, tested equal)."""
    import polars as pl

    s, e, t = pl.col(start).cast(pl.Int64), pl.col(end).cast(pl.Int64), pl.col(text)
    left = pl.max_horizontal(s - width, pl.lit(0))
    return [
        t.str.slice(left, s - left).str.replace_all(KWIC_BREAK, " ¶ ").alias("before"),
        t.str.slice(s, e - s).str.replace_all(KWIC_BREAK, " ¶ ").alias("match"),
        t.str.slice(e, width).str.replace_all(KWIC_BREAK, " ¶ ").alias("after"),
    ]


KWIC_SCHEMA = {"date": "String", "source": "String", "id": "String", "before": "String", "match": "String",
               "after": "String", "doc": "UInt32", "start": "UInt32", "end": "UInt32"}
# KWIC_BREAK for Python's re: polars' \s is Unicode's White_Space, re's also has U+001C-U+001F
_WS = "[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_BREAK = re.compile(f"{_WS}*(?:\r\n|[\n\r\u2028\u2029]){_WS}*")


def kwic_lines(text: str, start: int, end: int, width: int) -> tuple[str, str, str]:
    """:func:`kwic_context` for one match (code points ``[start, end)`` of ``text``), in
    plain Python: the CLI's ``kwic`` makes its lines so, without polars."""
    left = max(start - width, 0)
    return _shown(text[left:start]), _shown(text[start:end]), _shown(text[end:end + width])


def _shown(part: str) -> str:
    """``part`` with each line break (and the white space around it) as `` ¶ ``; most
    parts have none, and four substring scans are quicker than the regex."""
    if "\n" in part or "\r" in part or "\u2028" in part or "\u2029" in part:
        return _BREAK.sub(" ¶ ", part)
    return part


def query_kwic(corpus: str, phrase: str, *, level: str | None = None, width: int = 60,
               source=None, date_from: str | None = None, date_to: str | None = None,
               distinct: bool = False, limit: int | None = None, where: str | None = None,
               store=None) -> Result:
    """Concordance lines of ``phrase`` in the original wording, sorted by date.

    Columns: ``date`` (text at its precision: ``1946``, ``2015-07``, ``2015-07-21``),
    ``source``, ``id``, ``before``, ``match``, ``after`` (verbatim text around the match;
    line breaks shown as ``¶``: :func:`kwic_context`), ``doc``, ``start``, ``end``
    (code-point offsets of the match in the statement's text). Rows by date, source, id
    (undated last), then ``start``.

    Like :func:`query_phrase` it runs on numpy alone (no polars unless ``where`` is
    given): the texts are read from the corpus's texts store
    (:mod:`analysis.ingest.texts`, made from the snapshot the first time), only those of
    the lines kept (``limit``).
    """
    from ..ingest.texts import texts_open

    if width < 1:
        raise FormulaeError(f"--width must be positive, got {width}")
    if limit is not None and limit < 0:
        raise FormulaeError(f"--limit must be 0 or more, got {limit}")
    ix = index_open(corpus, level, store)
    params = {"corpus": corpus, "phrase": phrase, "level": ix.level, "width": width, "source": source,
              "from": date_from, "to": date_to, "distinct": distinct, "limit": limit, "where": where,
              "snapshot_sha256": ix.snapshot.get("snapshot_sha256")}
    pos, last, found = phrase_positions(ix, phrase)
    keep, notes = _doc_filter(ix, source, date_from, date_to, distinct, where, store)
    notes = found + notes
    docs = ix.doc_of(pos) if len(pos) else np.zeros(0, np.int64)
    sel = keep[docs]
    pos, last, docs = pos[sel], last[sel], docs[sel]
    if len(pos) == 0:
        return Result({name: [] for name in KWIC_SCHEMA}, params, notes, schema=KWIC_SCHEMA)
    starts = _token_at(ix, "start", pos).astype(np.int64)
    ends = _token_at(ix, "end", last).astype(np.int64)
    texts = texts_open(corpus, ix.snapshot["snapshot_sha256"], store)
    if texts.repaired:
        notes.append(f"the stored texts of the corpus were damaged ({texts.repaired}): made again")
    order = np.lexsort((starts, docs))  # the snapshot numbers statements by date, source and id
    if limit is not None and len(order) > limit:
        notes.append(f"showing {limit} of {len(order)} lines (--limit)")
        order = order[:limit]
    docs, starts, ends = docs[order].tolist(), starts[order].tolist(), ends[order].tolist()
    lines, held = [], (-1, "")  # a statement's lines are adjacent: one text decoded at a time
    for d, s, e in zip(docs, starts, ends, strict=True):
        if held[0] != d:
            held = (d, texts.text(d))
        lines.append(kwic_lines(held[1], s, e, width))
    labels = texts.labels
    columns = {name: [labels[name][d] for d in docs] for name in ("date", "source", "id")}
    columns |= {name: [line[k] for line in lines] for k, name in enumerate(("before", "match", "after"))}
    columns |= {"doc": docs, "start": starts, "end": ends}
    return Result(columns, params, notes, schema=KWIC_SCHEMA)


def _token_at(ix: PhraseIndex | Layers, name: str, positions: np.ndarray) -> np.ndarray:
    """The token array ``name`` (``start``, ``end``: code points in the statement) at ``positions``."""
    return ix.at(name, positions) if isinstance(ix, Layers) else np.asarray(ix.array(name))[positions]


# --- the recurring-phrase table ---------------------------------------------------

SORTS = PHRASE_SORTS


def phrases_table(corpus: str, *, level: str | None = None, min_statements: int = 2,
                  n: tuple[int, int] | None = None, maximal: bool = False, by: str | None = None,
                  sort: str = "statements", limit: int | None = 100, store=None) -> Result:
    """The recurring-phrase table: n-grams (``n=(lo, hi)``) or maximal phrases.

    Columns: ``phrase``, ``n`` (tokens), ``freq`` (occurrences), ``statements``,
    ``distinct_statements`` (a text repeated under two sources counted once), ``dp``
    (Gries's DP, 0 = even, 1 = concentrated), ``g2``, ``log_dice``, ``pmi``. With
    ``by``: one row per phrase and period with ``period``, ``statements``, ``occurrences``.
    """
    import polars as pl

    check("--sort", sort, SORTS)
    if limit is not None and limit < 0:
        raise FormulaeError(f"--limit must be 0 or more, got {limit}")
    if by is not None:
        check("--by", by, PERIODS)
    ix = index_load(corpus, level, store)
    params = {"corpus": corpus, "level": ix.level, "min_statements": min_statements, "n": n,
              "maximal": maximal, "by": by, "sort": sort, "limit": limit,
              "snapshot_sha256": ix.snapshot.get("snapshot_sha256")}
    built_k = ix.manifest["params"]["min_statements"]
    notes = index_notes(ix.manifest)
    if min_statements < built_k:
        notes.append(f"the index keeps phrases in >= {built_k} statements; --min-statements {min_statements} "
                     f"shows the same rows")
    lf = ix.table("maximal" if maximal else "ngrams").filter(pl.col("distinct_statements") >= min_statements)
    if n is not None:
        lo, hi = n
        if lo < 1 or hi < lo:
            raise FormulaeError(f"--n {lo}..{hi} is not a valid range")
        if not maximal and hi > ix.manifest["params"]["max_n"]:
            notes.append(f"n-grams are indexed up to n = {ix.manifest['params']['max_n']}; use --maximal for longer phrases")
        lf = lf.filter(pl.col("n").is_between(lo, hi))
    elif not maximal:
        lf = lf.filter(pl.col("n") >= 2)
    desc = sort != "phrase" and sort != "dp"
    if sort == "phrase":
        frame = lf.collect()
        frame = frame.with_columns(ix.phrases(frame)).sort(["phrase", "n"])
        total = frame.height
        frame = frame if limit is None else frame.head(limit)
    else:  # the first rows only (polars' top-k: ungdc's 9.2 M n-grams 2.0 s and 1.7 GB -> 0.13 s and 0.2 GB)
        ordered = lf.sort([sort, "statements", "freq", "n", "sa_lo"],
                          descending=[desc, True, True, True, False], nulls_last=True)
        total = lf.select(pl.len()).collect().item()
        frame = (ordered if limit is None else ordered.head(limit)).collect()
    if limit is not None and total > limit:
        notes.append(f"showing {limit} of {total} phrases (--limit)")
    if "phrase" not in frame.columns:
        frame = frame.with_columns(ix.phrases(frame))
    cols = ["phrase", "n", "freq", "statements", "distinct_statements", "dp", "g2", "log_dice", "pmi"]
    if by is None:
        return Result(frame.select(cols), params, notes)
    docs = ix.table("docs").select("doc", "date", "date_precision").collect().sort("doc")
    if docs.height != len(ix.array("doc_tokens")) or not (docs["doc"].to_numpy() == np.arange(docs.height)).all():
        raise FormulaeError(f"phrase index of {corpus!r} at {ix.level}: its statements table does not number "
                            f"statements 0..{len(ix.array('doc_tokens')) - 1}; rebuild it (formulae index --force)")
    ranks = {p: precision_rank(p) for p in PRECISIONS}
    usable = pl.col("date").is_not_null() & (
        pl.col("date_precision").replace_strict(ranks, default=9, return_dtype=pl.Int8) <= precision_rank(by))
    left_out = docs.filter(~usable).height
    if left_out:
        notes.append(f"{left_out} statements undated or dated more coarsely than --by {by} are left out of the periods")
    docs = docs.with_columns(pl.when(usable).then(pl.col("date").dt.truncate(PERIOD_STEP[by])).alias("_p"))
    starts = docs["_p"].drop_nulls().unique().sort()
    period = docs.select(pl.col("_p").replace_strict(starts, pl.int_range(len(starts), dtype=pl.Int64, eager=True),
                                                    default=-1).fill_null(-1)).to_series().to_numpy()
    row, p, st, occ = range_periods(ix.array("sa"), frame["sa_lo"].to_numpy(), frame["freq"].to_numpy(), ix.doc_of,
                                    period, len(starts))
    labels = pl.DataFrame({"_p": starts}).select(period_label_expr(by, "_p").alias("period"))["period"]
    out = pl.DataFrame({"phrase": frame["phrase"].gather(row), "n": frame["n"].gather(row),
                        "period": labels.gather(p), "statements": pl.Series(st, dtype=pl.UInt32),
                        "occurrences": pl.Series(occ, dtype=pl.UInt32)})
    return Result(out, params, notes)


