"""The formula lexicon: load, validate, match.

A lexicon (``corpus/formulae.yml``, schema in its header) names diplomatic formulae and
lists the patterns that realise each one. A pattern is either a ``phrase`` (a token
sequence with optional alternatives, optional words and bounded gaps) or an ``all`` set
(every item within ``window`` tokens of one another in one sentence, in any order unless
``ordered: true``).

Matching runs on the **form stream** (``tokens_level``: doc, sent, pos, start, end, form)
at a level (``exact``/``norm``/``clitic``/``stem``). Each pattern word is turned into forms
by ``analyzer.query_forms(word, level)`` — exactly as the corpus was processed — so a
lexicon wording matches its inflected and cliticised variants at the ``stem`` level.

What a match is:

* ``phrase``: the expanded token sequences (alternatives × optional words × gap lengths,
  at most :data:`MAX_EXPANSIONS`) occurring consecutively inside one sentence.
* ``all``: an occurrence of the first item with an occurrence of every other item in the
  same sentence such that the whole span (first token of the leftmost item to last token
  of the rightmost) is at most ``window`` tokens; counted once per first-item occurrence.
* A formula's occurrences are the union over its patterns; overlapping spans within a
  statement are merged and count once.

Output columns of :func:`formulae_match` (one row per formula occurrence):
``formula`` (id), ``doc``, ``sent``, ``pos`` (first piece), ``pos_end`` (last piece),
``start``/``end`` (code-point offsets into the verbatim text), ``patterns`` (sorted list of
the pattern indices that matched there).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import FormulaeError
from .view import CorpusView, corpus_view

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

LEVELS = ("exact", "norm", "clitic", "stem")
LANGUAGES = ("ar", "en", "ru")
MAX_EXPANSIONS = 512
MAX_GAP = 8
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ELEMENT_RE = re.compile(r"\([^()]*\)\??|\S+")
_GAP_RE = re.compile(r"^\*(?:\{(\d+),(\d+)\})?$")


def lexicon_default_path() -> Path:
    """``corpus/formulae.yml`` of the project (next to the ``analysis`` package)."""
    return Path(__file__).resolve().parent.parent / "corpus" / "formulae.yml"


@dataclass(frozen=True)
class Pattern:
    """One way of realising a formula. ``items`` has one entry for ``phrase``."""

    kind: str  # "phrase" or "all"
    items: tuple[str, ...]
    lang: str
    level: str | None = None
    window: int | None = None
    ordered: bool = False
    line: int | None = None

    def describe(self) -> str:
        if self.kind == "phrase":
            return self.items[0]
        order = "in order" if self.ordered else "any order"
        return f"all of [{' ; '.join(self.items)}] within {self.window} ({order})"


@dataclass(frozen=True)
class Formula:
    id: str
    label: str
    patterns: tuple[Pattern, ...]
    note: str | None = None
    level: str | None = None
    line: int | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({p.lang for p in self.patterns}))


@dataclass(frozen=True)
class Lexicon:
    formulae: tuple[Formula, ...]
    path: str | None = None
    sha256: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def get(self, formula_id: str) -> Formula:
        for f in self.formulae:
            if f.id == formula_id:
                return f
        known = ", ".join(f.id for f in self.formulae)
        raise FormulaeError(f"unknown formula {formula_id!r}; the lexicon has: {known}",
                            file=self.path)

    def for_language(self, lang: str) -> Lexicon:
        """Only the patterns in ``lang``; formulae without any are left out."""
        kept = []
        for f in self.formulae:
            pats = tuple(p for p in f.patterns if p.lang == lang)
            if pats:
                kept.append(Formula(f.id, f.label, pats, f.note, f.level, f.line))
        return Lexicon(tuple(kept), self.path, self.sha256, self.notes)

    def frame(self) -> pl.DataFrame:
        """One row per pattern: formula, label, pattern (index), lang, kind, level, text."""
        import polars as pl

        rows = [
            {"formula": f.id, "label": f.label, "pattern": i, "lang": p.lang, "kind": p.kind,
             "level": p.level or f.level, "text": p.describe()}
            for f in self.formulae for i, p in enumerate(f.patterns)
        ]
        schema = {"formula": pl.String, "label": pl.String, "pattern": pl.UInt32,
                  "lang": pl.String, "kind": pl.String, "level": pl.String, "text": pl.String}
        return pl.DataFrame(rows, schema=schema)


# ----------------------------------------------------------------------- loading


def _yaml_with_lines(text: str, path: str):
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormulaeError(f"invalid YAML: {problem}", file=path, line=line) from None


def lexicon_load(path: str | Path | None = None) -> Lexicon:
    """Read and validate a lexicon file (default: :func:`lexicon_default_path`)."""
    path = Path(path) if path is not None else lexicon_default_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormulaeError(f"cannot read lexicon: {exc.strerror}", file=path) from None
    text = raw.decode("utf-8", errors="strict")
    data = _yaml_with_lines(text, str(path))
    lex = lexicon_parse(data, str(path))
    return Lexicon(lex.formulae, str(path), hashlib.sha256(raw).hexdigest(), lex.notes)


def lexicon_parse(data: Any, path: str = "<lexicon>") -> Lexicon:
    """Validate parsed YAML (with ``__line__`` keys where available) into a :class:`Lexicon`."""
    if not isinstance(data, dict):
        raise FormulaeError("the lexicon must be a mapping with 'version' and 'formulae'", file=path)
    if data.get("version", 1) != 1:
        raise FormulaeError(f"unsupported lexicon version {data.get('version')!r} (expected 1)",
                            file=path, line=data.get("__line__"))
    items = data.get("formulae")
    if not isinstance(items, list) or not items:
        raise FormulaeError("'formulae' must be a non-empty list", file=path, line=data.get("__line__"))
    seen: dict[str, int | None] = {}
    out = []
    for entry in items:
        f = _parse_formula(entry, path)
        if f.id in seen:
            raise FormulaeError(f"duplicate formula id {f.id!r} (first at line {seen[f.id]})",
                                file=path, line=f.line)
        seen[f.id] = f.line
        out.append(f)
    return Lexicon(tuple(out), path)


def _parse_formula(entry: Any, path: str) -> Formula:
    if not isinstance(entry, dict):
        raise FormulaeError("each formula must be a mapping with id, label, patterns", file=path)
    line = entry.get("__line__")
    allowed = {"id", "label", "note", "level", "patterns", "__line__"}
    extra = sorted(set(entry) - allowed)
    if extra:
        raise FormulaeError(f"unknown key(s) {extra} in formula (allowed: {sorted(allowed - {'__line__'})})",
                            file=path, line=line)
    fid = entry.get("id")
    if not isinstance(fid, str) or not _ID_RE.match(fid):
        raise FormulaeError(f"formula id {fid!r} must be a lower-case slug (a-z, 0-9, '-')",
                            file=path, line=line)
    label = entry.get("label")
    if not isinstance(label, str) or not label.strip():
        raise FormulaeError(f"formula {fid!r} needs a non-empty 'label'", file=path, line=line)
    level = _check_level(entry.get("level"), fid, path, line)
    pats = entry.get("patterns")
    if not isinstance(pats, list) or not pats:
        raise FormulaeError(f"formula {fid!r} needs a non-empty 'patterns' list", file=path, line=line)
    patterns = tuple(_parse_pattern(p, fid, path, line) for p in pats)
    note = entry.get("note")
    return Formula(fid, label.strip(), patterns, None if note is None else str(note), level, line)


def _check_level(level, fid, path, line):
    if level is not None and level not in LEVELS:
        raise FormulaeError(f"formula {fid!r}: level {level!r} is not one of {', '.join(LEVELS)}",
                            file=path, line=line)
    return level


def _parse_pattern(p: Any, fid: str, path: str, fline: int | None) -> Pattern:
    if not isinstance(p, dict):
        raise FormulaeError(f"formula {fid!r}: each pattern must be a mapping like "
                            "{lang: ar, phrase: ...}", file=path, line=fline)
    line = p.get("__line__", fline)
    allowed = {"lang", "phrase", "all", "window", "level", "ordered", "__line__"}
    extra = sorted(set(p) - allowed)
    if extra:
        raise FormulaeError(f"formula {fid!r}: unknown pattern key(s) {extra}", file=path, line=line)
    lang = p.get("lang")
    if lang not in LANGUAGES:
        raise FormulaeError(f"formula {fid!r}: pattern lang {lang!r} is not one of {', '.join(LANGUAGES)}",
                            file=path, line=line)
    level = _check_level(p.get("level"), fid, path, line)
    has_phrase, has_all = "phrase" in p, "all" in p
    if has_phrase == has_all:
        raise FormulaeError(f"formula {fid!r}: a pattern needs exactly one of 'phrase' or 'all'",
                            file=path, line=line)
    if has_phrase:
        text = p["phrase"]
        if not isinstance(text, str) or not text.strip():
            raise FormulaeError(f"formula {fid!r}: 'phrase' must be a non-empty string", file=path, line=line)
        _check_syntax(text, fid, path, line)
        if "window" in p or "ordered" in p:
            raise FormulaeError(f"formula {fid!r}: 'window'/'ordered' apply to 'all' patterns only",
                                file=path, line=line)
        return Pattern("phrase", (text.strip(),), lang, level, None, False, line)
    items = p["all"]
    if not isinstance(items, list) or len(items) < 2 or not all(isinstance(i, str) and i.strip() for i in items):
        raise FormulaeError(f"formula {fid!r}: 'all' must list at least two non-empty phrases",
                            file=path, line=line)
    for i in items:
        _check_syntax(i, fid, path, line)
    window = p.get("window")
    if not isinstance(window, int) or isinstance(window, bool) or not 2 <= window <= 50:
        raise FormulaeError(f"formula {fid!r}: 'window' must be an integer from 2 to 50, got {window!r}",
                            file=path, line=line)
    ordered = p.get("ordered", False)
    if not isinstance(ordered, bool):
        raise FormulaeError(f"formula {fid!r}: 'ordered' must be true or false", file=path, line=line)
    return Pattern("all", tuple(i.strip() for i in items), lang, level, window, ordered, line)


def _parse_elements(text: str) -> list[tuple[str, Any]]:
    """Split pattern text into elements: ("word", w), ("alt", [alts], optional), ("gap", lo, hi)."""
    out: list[tuple[str, Any]] = []
    for tok in _ELEMENT_RE.findall(text):
        if re.fullmatch(r"\([^()]*\)\??", tok):
            optional = tok.endswith("?")
            body = tok[1:-2] if optional else tok[1:-1]
            alts = [a.strip() for a in body.split("|")]
            if not all(alts):
                raise ValueError(f"empty alternative in {tok!r}")
            out.append(("alt", (alts, optional)))
        elif _GAP_RE.match(tok):
            m = _GAP_RE.match(tok)
            lo, hi = (1, 1) if m.group(1) is None else (int(m.group(1)), int(m.group(2)))
            if lo > hi or hi > MAX_GAP:
                raise ValueError(f"gap {tok!r} must be *{{lo,hi}} with lo <= hi <= {MAX_GAP}")
            out.append(("gap", (lo, hi)))
        elif "*" in tok or "(" in tok or ")" in tok or "|" in tok:
            raise ValueError(f"cannot read {tok!r} (use (a|b), word?, * or *{{0,3}})")
        elif tok.endswith("?") and len(tok) > 1:
            out.append(("alt", ([tok[:-1]], True)))
        else:
            out.append(("word", tok))
    if not out:
        raise ValueError("empty pattern")
    if out[0][0] == "gap" or out[-1][0] == "gap":
        raise ValueError("a pattern cannot start or end with a gap")
    return out


def _check_syntax(text: str, fid: str, path: str, line: int | None) -> None:
    try:
        _parse_elements(text)
    except ValueError as exc:
        raise FormulaeError(f"formula {fid!r}: pattern {text!r}: {exc}", file=path, line=line) from None


# ----------------------------------------------------------------------- expansion


def pattern_sequences(text: str, to_forms: Callable[[str], list[str]]) -> list[tuple[str | None, ...]]:
    """Expand pattern text into the fixed token sequences it stands for.

    ``to_forms`` turns a word (or alternative) into forms at the matching level; ``None``
    in a sequence is a wildcard slot. Sequences are deduplicated and sorted; raises
    ``ValueError`` past :data:`MAX_EXPANSIONS` or when a sequence starts/ends with a gap.
    """
    choices: list[list[tuple[str | None, ...]]] = []
    for kind, val in _parse_elements(text):
        if kind == "word":
            choices.append([tuple(to_forms(val))])
        elif kind == "alt":
            alts, optional = val
            opts = [tuple(to_forms(a)) for a in alts]
            if optional:
                opts.append(())
            choices.append(opts)
        else:
            lo, hi = val
            choices.append([(None,) * k for k in range(lo, hi + 1)])
    total = 1
    for c in choices:
        total *= len(c)
        if total > MAX_EXPANSIONS:
            raise ValueError(f"pattern {text!r} expands to more than {MAX_EXPANSIONS} sequences")
    seqs = set()
    for combo in itertools.product(*choices):
        seq = tuple(itertools.chain.from_iterable(combo))
        if not seq:
            continue
        if seq[0] is None or seq[-1] is None:
            raise ValueError(f"pattern {text!r}: a gap would start or end the match")
        seqs.add(seq)
    return sorted(seqs, key=lambda s: tuple("" if x is None else x for x in s))


# ----------------------------------------------------------------------- matching


def stream_prepare(stream) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collect a form stream into (tokens, vocab) for :func:`sequences_find`.

    tokens: doc, sent, pos, start, end, fid (UInt32 form id), sorted by (doc, pos);
    vocab: form, fid. Do this once per stream and reuse it for many searches.
    """
    import polars as pl

    lf = stream.lazy().select("doc", "sent", "pos", "start", "end", "form")
    vocab = (lf.select(pl.col("form").unique()).sort("form")
             .with_row_index("fid").collect())
    toks = (lf.join(vocab.lazy(), on="form", how="left")
            .select("doc", "sent", "pos", "start", "end", pl.col("fid").cast(pl.UInt32))
            .sort("doc", "pos").collect())
    return toks, vocab.select("form", pl.col("fid").cast(pl.UInt32))


def sequences_find(prepared: tuple[pl.DataFrame, pl.DataFrame],
                   sequences: Mapping[int, tuple[str | None, ...]]) -> pl.DataFrame:
    """All occurrences of fixed token sequences (``None`` = any one token) in a stream.

    ``prepared`` comes from :func:`stream_prepare`; ``sequences`` maps an integer key to a
    sequence of forms. A sequence occurs where its forms sit at consecutive positions
    inside one sentence. Returns (seq, doc, sent, pos, pos_end, start, end), sorted.
    """
    import polars as pl

    toks, vocab = prepared
    out_schema = {"seq": pl.UInt32, "doc": pl.UInt32, "sent": pl.UInt32, "pos": pl.UInt32,
                  "pos_end": pl.UInt32, "start": pl.UInt32, "end": pl.UInt32}
    if not sequences or toks.height == 0:
        return pl.DataFrame(schema=out_schema)
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
        return pl.DataFrame(schema=out_schema)
    hits = pl.concat(parts)
    i, j = hits["_i"], hits["_i"] + hits["_span"]
    return pl.DataFrame({
        "seq": hits["seq"], "doc": doc.gather(i), "sent": sent.gather(i),
        "pos": toks["pos"].gather(i), "pos_end": toks["pos"].gather(j),
        "start": toks["start"].gather(i), "end": toks["end"].gather(j),
    }).cast(out_schema).sort("seq", "doc", "pos", "pos_end")


def _forms_fn(analyzer, level: str) -> Callable[[str], list[str]]:
    cache: dict[str, list[str]] = {}

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
    fns: dict[str, Callable[[str], list[str]]] = {}
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
    import polars as pl

    seqs, meta = _compile(lexicon, analyzer, level)
    schema = {"seq": pl.UInt32, "formula": pl.String, "pattern": pl.UInt32,
              "item": pl.UInt32, "level": pl.String}
    meta_df = pl.DataFrame(meta, schema=schema)
    hits = []
    for lv, table in sorted(seqs.items()):
        if lv not in streams:
            raise FormulaeError(f"formulae_match: no form stream for level {lv!r} "
                                f"(given: {', '.join(sorted(streams))})")
        prepared = streams[lv] if isinstance(streams[lv], tuple) else stream_prepare(streams[lv])
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
    import polars as pl

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
    import polars as pl

    occ = occ.cast({"pattern": pl.UInt32, "doc": pl.UInt32, "sent": pl.UInt32, "pos": pl.UInt32,
                    "pos_end": pl.UInt32, "start": pl.UInt32, "end": pl.UInt32})
    occ = occ.sort("formula", "doc", "pos", "pos_end", "pattern")
    prev_max = pl.col("pos_end").cum_max().shift(1).over(["formula", "doc"])
    new = prev_max.is_null() | (pl.col("pos") > prev_max)
    occ = occ.with_columns(new.cast(pl.UInt32).cum_sum().alias("_block"))
    return (occ.group_by("_block", maintain_order=True)
            .agg(pl.col("formula").first(), pl.col("doc").first(), pl.col("sent").first(),
                 pl.col("pos").min(), pl.col("pos_end").max(), pl.col("start").min(),
                 pl.col("end").max(), pl.col("pattern").unique().sort().alias("patterns"))
            .drop("_block").sort("formula", "doc", "pos"))


def formulae_counts(matches: pl.DataFrame) -> pl.DataFrame:
    """Per statement counts of each formula: (formula, doc, occurrences)."""
    import polars as pl

    return (matches.group_by("formula", "doc").agg(pl.len().cast(pl.UInt32).alias("occurrences"))
            .sort("formula", "doc"))


def formulae_find(corpus: str | CorpusView, *, store=None, lexicon: Lexicon | None = None,
                  level: str | None = None, formulae: list[str] | None = None) -> pl.DataFrame:
    """Match the lexicon (default ``corpus/formulae.yml``) on a corpus.

    Returns :func:`formulae_match`'s occurrences plus ``id``, ``source``, ``date`` and the
    matched verbatim ``text``. ``formulae`` restricts to some ids.
    """
    import polars as pl

    from .tokens import default_level

    view = corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)
    lex = (lexicon or lexicon_load()).for_language(view.language)
    level = level or default_level(view.language)
    wanted = [lex.get(f).id for f in formulae or ()]  # unknown ids are an error
    # A lexicon read from a file (it has a hash) is matched whole once per view and level;
    # formulae match independently, so a subset is a filter of the whole.
    key = ("formulae_find", lex.sha256, level) if lex.sha256 else None
    if key is not None:
        if key not in view.cache:
            view.cache[key] = _find(view, lex, level)
        occ = view.cache[key]
        return occ.filter(pl.col("formula").is_in(wanted)) if wanted else occ
    if wanted:
        lex = Lexicon(tuple(lex.get(f) for f in wanted), lex.path, lex.sha256)
    return _find(view, lex, level)


def _find(view: CorpusView, lex: Lexicon, level: str) -> pl.DataFrame:
    import polars as pl

    levels = {level} | {p.level or f.level or level for f in lex.formulae for p in f.patterns}
    streams = {lv: view.stream(lv) for lv in sorted(levels)}
    occ = formulae_match(lex, streams, view.analyzer, level=level)
    texts = view.texts().join(occ.lazy().select("doc").unique(), on="doc", how="semi")
    occ = (occ.join(texts.collect(), on="doc", how="left")
           .with_columns(pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start")))
           .join(view.statements.select("doc", "id", "source", "date"), on="doc", how="left"))
    return occ.sort("formula", "doc", "pos")


def lexicon_accept(families, family_id: str, *, language: str, path: str | Path | None = None,
                   max_variants: int = 12) -> Formula:
    """Append a family to the lexicon file as a formula (its wordings as literal phrases).

    The file is re-validated with the new entry before it is written (atomically); comments
    and layout of the existing file are kept. Raises if the id is already there.
    """
    import polars as pl
    import yaml

    from .store import atomic_file

    path = Path(path) if path is not None else lexicon_default_path()
    row = families.get(family_id).row(0, named=True)
    current = lexicon_load(path)
    if any(f.id == family_id for f in current.formulae):
        raise FormulaeError(f"family {family_id!r} is already in the lexicon", file=path)
    variants = (families.variants.filter(pl.col("family") == family_id)
                .head(max_variants)["variant"].to_list())
    clean = []
    for v in variants:
        text = re.sub(r"[()|*?]", " ", v)
        text = " ".join(text.split())
        if text and text not in clean:
            clean.append(text)
    entry = {"id": family_id, "label": row["canonical"],
             "note": f"accepted from families: signature '{row['signature']}', "
                     f"{row['statements']} statements, {row['variants']} wordings",
             "patterns": [{"lang": language, "phrase": t} for t in clean]}
    block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=1000)
    block = "".join("  " + line if line.strip() else line for line in block.splitlines(True))
    text = path.read_text(encoding="utf-8")
    new_text = text.rstrip("\n") + "\n\n" + block
    updated = lexicon_parse(_yaml_with_lines(new_text, str(path)), str(path))  # validate first
    with atomic_file(path, "w") as fh:
        fh.write(new_text)
    return updated.get(family_id)
