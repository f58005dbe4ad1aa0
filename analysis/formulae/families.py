"""Variant families: recurring phrases grouped into the wordings of one formula.

Method (``families_find``; every threshold is a parameter, defaults in :data:`DEFAULTS`):

1. **Seeds.** The phrase engine (:func:`analysis.phrases.phrases_scan`) finds the maximal
   recurring phrases of the corpus at the family level (default ``stem``, so
   ``سيادة``/``سيادتها`` and ``أراضي``/``أراضيها`` are one form) occurring in at least
   ``min_statements`` distinct statements. A seed must hold at least ``min_content``
   content forms (not stopwords, not numbers, at least two letters). At most
   ``max_seeds`` seeds are kept, most widespread first.
2. **Context core.** Around every seed occurrence, the content forms within ``window``
   tokens on either side (same sentence) are collected. A form belongs to the seed's
   *core* when it appears in the context of at least ``max(min_statements,
   core_share × statements of the seed)`` distinct statements — words that travel with
   the seed even where the wording changes (reordering, inflection, inserted words). The
   core is estimated on at most ``core_sample`` occurrences per seed (the first ones in
   suffix-array order, a deterministic sample); spans use every occurrence.
3. **Variant span.** Each occurrence is extended, on each side, through the chain of
   *free* forms in its context (the seed's own content forms and its core forms) whose
   links are separated by at most ``max_gap`` other tokens. A content form on the way that
   is not free is an *insertion*: it must be admitted by a phrase frame - it fills the open
   slot of a frame (:func:`analysis.phrases.frames.frames_slot_pairs`, n-grams in at least
   ``min_statements`` statements with at least two fillers) whose fixed tokens hold one of
   the seed's content forms - and an occurrence takes at most ``max_insert`` insertions
   (left side first); a form no frame admits ends the span. The verbatim text of the
   span is the occurrence's wording.
4. **Families.** Seeds whose spans overlap in at least ``merge_share`` of the smaller
   seed's occurrences are paired; a pair links only when the later seed's content forms
   match the core of the earlier one by the membership rule
   (:func:`analysis.formulae.match.core_match`: the seed's content forms in order or
   permuted, core forms free, at most ``max_insert`` insertions and ``max_subst``
   substitution, each change admitted by a frame). A family grows around one seed: seeds
   are taken in order (most widespread first), a seed not yet taken becomes a *centre* and
   takes every untaken seed linked to the centre itself - never through a chain of
   neighbours (connected components made one family of 4,597 wordings on saudinewsnet).
   A member seed's occurrence keeps its bare span (its own core is not the centre's); the
   centre's occurrences keep their extension. Overlapping spans of one family in one
   statement are merged, and a merged span that does not match its centre's core by the
   same rule (checked before function-word pieces are trimmed from its ends: one stem can
   be a stopword in one place and a content word in another) is left out (a note counts
   them); each wording is labelled with its ``kind`` (``exact``, ``permutation``,
   ``insertion``, ``substitution``) and ``filler`` (the inserted or substituted forms).
   ``cohesion`` is the share of the family's occurrences that hold its centre. A family
   with more than ``max_variants`` wordings whose cohesion is below ``min_cohesion`` (a
   grab-bag: most occurrences lack the centre) is split into its seeds; a family still over
   ``max_variants`` keeps its most widespread wordings and the occurrences of the rarer
   ones are left out (a note counts them).
5. **Output.** Per family: a stable ``family`` id (``fam-`` + 10 hex of the SHA-256 of the
   signature - the sorted seed and core forms - and the family's seed phrases), the ``canonical`` wording (the variant in
   most statements; ties: more occurrences, shorter, alphabetical), the ``signature``,
   counts, and per variant the statements that use it.

Result: :class:`Families` with ``.frame`` (one row per family), ``.variants`` (one row per
family × wording) and ``.occurrences`` (one row per family occurrence), ``.params`` and
``.notes``. Columns are listed in :data:`COLUMNS`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..phrases import suffix
from ..phrases.strings import phrase_strings
from ..phrases.subset import subset_scan
from ..phrases.view import (
    CorpusView,
    TokenColumns,
    corpus_view,
    index_columns,
    index_vocab,
    subset_columns,
)
from ..text.languages import content_forms
from ..vocab import SEGMENTED_LANGUAGES, default_level, language_levels
from .lexicon import lexicon_user_words
from .match import core_roles, match_table, seed_centres, sorted_search, span_blocks

DEFAULTS: dict[str, Any] = {
    "level": "stem", "min_statements": 2, "min_content": 2, "max_seeds": 3000,
    "window": 6, "max_gap": 2, "core_share": 0.5, "core_sample": 300, "merge_share": 0.5, "max_n": 8,
    "max_variants": 100, "min_cohesion": 0.5, "max_insert": 2, "max_subst": 1,
}

COLUMNS = {
    "frame": {
        "family": "stable id (fam-<hash of signature and seeds>)",
        "canonical": "the wording used in most statements (verbatim)",
        "signature": "sorted seed + core forms at the family level",
        "statements": "distinct statements with any wording of the family",
        "occurrences": "occurrences (overlaps merged)",
        "variants": "number of distinct wordings",
        "cohesion": "share of the family's occurrences that hold its centre seed (1 = every wording grew from it)",
        "seeds": "the recurring phrases (forms) the family grew from",
    },
    "variants": {
        "family": "family id", "variant": "verbatim wording (whitespace collapsed)",
        "kind": "how it differs from the centre seed: exact, permutation, insertion or substitution",
        "filler": "the inserted or substituted forms (each admitted by a phrase frame; null: none)",
        "statements": "distinct statements using it", "occurrences": "occurrences",
        "docs": "sorted doc numbers of the statements", "ids": "their statement ids",
    },
    "occurrences": {
        "family": "family id", "doc": "statement", "sent": "sentence",
        "pos": "first piece", "pos_end": "last piece", "start": "code-point offset",
        "end": "code-point offset", "variant": "verbatim wording",
    },
}


@dataclass
class Families:
    frame: pl.DataFrame
    variants: pl.DataFrame
    occurrences: pl.DataFrame
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: Any = None  # (fam, family): the centre seed number of each family id

    def get(self, family: str) -> pl.DataFrame:
        out = self.frame.filter(pl.col("family") == family)
        if out.height == 0:
            raise FormulaeError(f"unknown family {family!r} ({self.frame.height} families found "
                                "with these parameters)")
        return out


def families_find(corpus, *, store=None, where: pl.Expr | None = None, **options) -> Families:
    """Group recurring phrases of a corpus into variant families (see module docstring).

    ``corpus`` is a name or a :class:`analysis.view.CorpusView`; ``where`` optionally
    restricts the statements (a polars expression over the statements table, e.g.
    ``pl.col("source") == "was"``). ``options`` override :data:`DEFAULTS`.
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise FormulaeError(f"unknown family option(s) {unknown}; known: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **options}
    view = corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)
    if "level" not in options and p["level"] not in language_levels(view.language):
        p["level"] = default_level(view.language)  # the default stem level: norm for Chinese
    notes: list[str] = []
    words = view.language in SEGMENTED_LANGUAGES  # Chinese: families of jieba words
    # the index, built whole first (no layer made for nothing): its maximal phrases and arrays,
    # or a subset's suffixes
    base = None if words else view.index(p["level"])
    if words:  # content: on the words
        toks, vocab = view.word_stream(p["level"], lexicon_user_words(view.language))
        content = content_forms(vocab.sort("fid")["form"], view.language).gather(toks["fid"]).to_numpy()
        notes.append("families of jieba words (lexicon wordings added as user words)")
    statements = view.statements
    if where is not None:
        keep = statements.filter(where)
        notes.append(f"{statements.height - keep.height} statements excluded by the filter")
        statements = keep
    params = {**p, "corpus": view.name, "snapshot_sha256": view.snapshot_sha256,
              "where": None if where is None else str(where)}
    if statements.height < 2:
        notes.append("fewer than two statements: no families")
        return _empty(params, notes)
    if base is not None and where is None:  # the index's maximal phrases and arrays: no form stream
        ix = base
        scan: Any = SimpleNamespace(  # the parts of a Scan the families need
            ids=np.asarray(ix.array("ids")), sa=ix.array("sa"),
            vocab=ix.table("vocab").select("id", "form").collect(),
            maximal=ix.table("maximal").filter(pl.col("distinct_statements") >= p["min_statements"]).collect())
        docmap = statements.select("doc", "id", "duplicate_of").sort("doc").with_columns(pl.col("doc").alias("d"))
        stream = TokenColumns.of_index(ix, view.content_flags(p["level"], len(scan.ids)))
    else:
        # a subset, or words (the index is by character): count the recurring phrases afresh
        # (phrases_scan wants docs 0..D-1)
        docmap = statements.select("doc", "id", "duplicate_of").sort("doc").with_row_index("d")
        canon = (docmap.join(docmap.select(pl.col("id").alias("duplicate_of"), pl.col("d").alias("c")),
                             on="duplicate_of", how="left", maintain_order="left")
                 .select(pl.col("d").cast(pl.UInt32).alias("doc"),
                         pl.coalesce("c", "d").cast(pl.UInt32).alias("canon")))
        if base is None:  # words: their stream
            columns = subset_columns(toks, content, docmap["doc"])
            del toks, content
        else:  # the index's tokens at the kept statements: no stream of the whole corpus
            columns = index_columns(base, docmap["doc"], view.content_flags(p["level"], len(base.array("ids"))))
            vocab = index_vocab(base)
        if len(columns["doc"]) == 0:
            notes.append("no tokens in the selected statements")
            return _empty(params, notes)
        scan = subset_scan(columns, vocab, canon, base, docmap["doc"].to_numpy(),
                           max_n=p["max_n"], min_statements=max(2, p["min_statements"]))
        stream = TokenColumns(columns["content"], columns["sent"], columns)
    out = _families_from_scan(scan, stream, docmap, view, p, notes)
    out.params = params
    return out


def _families_from_scan(scan, stream, docmap, view, p, notes) -> Families:
    """Families from the maximal phrases of a scan: 1. seeds (:func:`_seed_table`);
    2. each seed's core forms, estimated on a sample of its occurrences; 3. every
    occurrence extended through the chain of core forms (:func:`_occurrences`); 4. grouped
    around centre seeds (:func:`_group`), once the arrays of 1-3 are freed."""
    got = _occurrences(scan, stream, docmap, view, p, notes)
    if got is None:
        return _empty({}, notes)
    return _group(*got)


def _occurrences(scan, stream, docmap, view, p, notes) -> tuple | None:
    """:func:`_families_from_scan`'s steps 1-3: the arguments of :func:`_group` (None: no seed)."""
    ids = np.asarray(scan.ids)
    forms = scan.vocab.sort("id")["form"]
    is_content = stream.content
    seeds = _seed_table(scan.maximal, is_content, p, notes)
    if seeds is None:
        return None
    seeds = seeds.with_row_index("seed")
    # occurrences of each seed: suffix-array slice sa[sa_lo : sa_lo + freq]
    lo = seeds["sa_lo"].to_numpy().astype(np.int64)
    fr = seeds["freq"].to_numpy().astype(np.int64)
    rank, srow = suffix.expand_runs(lo, fr)
    k_in = rank - lo[srow]  # occurrence number within its seed
    r0 = np.asarray(scan.sa[rank], np.int64)
    sn = seeds["n"].to_numpy().astype(np.int64)
    r1 = r0 + sn[srow] - 1
    sent = stream.sent  # a sentence lies in one statement, and its number is the corpus's
    n_voc = int(ids.max()) + 1 if len(ids) else 1
    w, total = int(p["window"]), len(ids)

    def at(base: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Row base+d where it is a content piece in the same sentence (and that mask)."""
        r = base + d
        ok = (r >= 0) & (r < total)
        r = np.where(ok, r, base)
        ok &= sent[r] == sent[base]
        return r, ok

    # the seed's own forms (from its listed occurrence) never count as its core
    spos = seeds["pos"].to_numpy().astype(np.int64)
    otok, orow = suffix.expand_runs(spos, sn)
    own_keys = np.unique(orow * n_voc + ids[otok].astype(np.int64))
    # core: estimated on at most `core_sample` occurrences per seed
    samp = np.flatnonzero(k_in < p["core_sample"])
    keys, kdoc = [], []
    for d in [*range(-w, 0), *range(1, w + 1)]:
        base = (r0 if d < 0 else r1)[samp]
        r, ok = at(base, d)
        ok &= is_content[r]
        keys.append(srow[samp][ok] * n_voc + ids[r[ok]].astype(np.int64))
        kdoc.append(stream.at("doc", base[ok]))
    ctx = pl.DataFrame({"key": np.concatenate(keys), "doc": np.concatenate(kdoc)}).unique()
    sampled = pl.DataFrame({"seed": srow[samp], "doc": stream.at("doc", r0[samp])}).unique().group_by("seed").len()
    need = pl.max_horizontal(pl.lit(p["min_statements"]), (pl.col("len") * p["core_share"]).ceil())
    core = (ctx.group_by("key").len().rename({"len": "k"})
            .with_columns((pl.col("key") // n_voc).alias("seed"))
            .join(sampled, on="seed").filter(pl.col("k") >= need)
            .filter(~pl.col("key").is_in(pl.Series(own_keys).implode())))
    core_keys = np.sort(core["key"].to_numpy())
    # the seeds' content forms (with repeats, in order) and what the frames admit beside them
    c_ok = is_content[otok]
    seed_tok = pl.DataFrame({"seed": orow[c_ok].astype(np.uint32), "fid": ids[otok[c_ok]].astype(np.int64),
                             "i": otok[c_ok] - spos[orow[c_ok]]})
    seed_keys = np.unique(orow[c_ok] * n_voc + ids[otok[c_ok]].astype(np.int64))
    adm_keys = _admitted(scan, view, p, seed_tok, n_voc)
    free_keys = np.union1d(core_keys, seed_keys)  # no change: the seed's own and its core forms

    def has(keys: np.ndarray, seed_of: np.ndarray, r: np.ndarray) -> np.ndarray:
        if len(keys) == 0:
            return np.zeros(len(r), bool)
        key = seed_of * n_voc + ids[r].astype(np.int64)
        i = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
        return keys[i] == key

    # extend every occurrence through the chain of free forms (links <= max_gap apart); a
    # content form on the way is an insertion: admitted by a frame, at most max_insert in all
    step = p["max_gap"] + 1
    ext = {}
    budget = np.full(len(r0), int(p["max_insert"]), np.int64)
    for side, base, sign in (("left", r0, -1), ("right", r1, 1)):
        last = np.zeros(len(base), np.int64)
        alive = np.ones(len(base), bool)
        pending = np.zeros(len(base), np.int64)
        for dist in range(1, w + 1):
            r, ok = at(base, sign * dist)
            alive &= ok & ((dist - last) <= step)
            look = np.flatnonzero(alive & is_content[r])  # only live spans at a content form
            free = np.zeros(len(r), bool)
            free[look] = has(free_keys, srow[look], r[look])
            change = np.zeros(len(r), bool)
            change[look] = ~free[look]
            admitted = np.zeros(len(r), bool)
            cl = look[change[look]]
            admitted[cl] = has(adm_keys, srow[cl], r[cl])
            pending += alive & admitted
            alive &= ~(change & ~admitted) & (pending <= budget)
            hit = alive & free
            last = np.where(hit, dist, last)
            budget = np.where(hit, budget - pending, budget)
            pending = np.where(hit, 0, pending)
        ext[side] = last
    occ = pl.DataFrame({"o": np.arange(len(r0), dtype=np.int64), "seed": srow.astype(np.uint32),
                        "doc": stream.at("doc", r0), "a": r0 - ext["left"], "b": r1 + ext["right"], "a0": r0, "b0": r1})
    core_df = core.select(pl.col("seed").cast(pl.UInt32), (pl.col("key") % n_voc).alias("fid"))
    own = pl.DataFrame({"seed": (own_keys // n_voc).astype(np.uint32), "fid": own_keys % n_voc})
    return (occ, seeds, core_df, own,
            _Corpus(forms, ids, stream, docmap, view, p, notes, seed_tok, core_df, adm_keys, n_voc))


def _admitted(scan, view, p: dict, seed_tok: pl.DataFrame, n_voc: int) -> np.ndarray:
    """Sorted keys ``seed * n_voc + fid``: the content forms a phrase frame admits beside
    one of the seed's content forms (:func:`analysis.phrases.frames.frames_slot_pairs` on
    the corpus's index at the family level, matched to the scan's vocabulary by form)."""
    from ..phrases.frames import frames_slot_pairs

    ix = view.index(p["level"])
    ivocab = ix.table("vocab").select(pl.col("id").cast(pl.Int64).alias("iid"), "form").collect()
    svocab = scan.vocab.select(pl.col("id").cast(pl.Int64).alias("fid"), "form").join(ivocab, on="form")
    anchors = seed_tok.select("fid").unique().join(svocab, on="fid")["iid"].to_numpy()
    pairs = frames_slot_pairs(ix, anchors=anchors, max_n=min(5, p["max_n"]), min_statements=p["min_statements"])
    to_scan = svocab.select("iid", "fid")
    pairs = (pairs.select(pl.col("anchor").cast(pl.Int64), pl.col("filler").cast(pl.Int64))
             .join(to_scan.rename({"iid": "anchor", "fid": "a"}), on="anchor")
             .join(to_scan.rename({"iid": "filler"}), on="filler").sort("a", "fid"))
    a, f = pairs["a"].to_numpy(), pairs["fid"].to_numpy()
    st = seed_tok.select("seed", "fid").unique()
    sa, sf = st["seed"].to_numpy().astype(np.int64), st["fid"].to_numpy()
    lo, hi = np.searchsorted(a, sf, "left"), np.searchsorted(a, sf, "right")
    idx, row = suffix.expand_runs(lo, hi - lo)  # each seed form x the fillers beside it
    return np.sort(sa[row] * n_voc + f[idx])


def _seed_table(mx: pl.DataFrame, is_content: np.ndarray, p: dict, notes: list[str]) -> pl.DataFrame | None:
    """The maximal phrases used as seeds: at least ``min_content`` content forms, the
    ``max_seeds`` most widespread (None, with a note, when there is none)."""
    if mx.height == 0:
        notes.append("no recurring phrases")
        return None
    pos = mx["pos"].to_numpy().astype(np.int64)
    n = mx["n"].to_numpy().astype(np.int64)
    tok, row = suffix.expand_runs(pos, n)
    n_content = np.bincount(row, weights=is_content[tok], minlength=len(pos))
    mx = mx.with_columns(pl.Series("n_content", n_content.astype(np.int64)))
    seeds = (mx.with_row_index("_r").filter(pl.col("n_content") >= p["min_content"])
             .sort(["distinct_statements", "freq", "n", "sa_lo"], descending=[True, True, True, False])
             .head(p["max_seeds"]))
    dropped = mx.height - seeds.height
    notes.append(f"{mx.height} maximal recurring phrases; {seeds.height} used as seeds "
                 f"({dropped} with fewer than {p['min_content']} content forms or past max_seeds)")
    return seeds if seeds.height else None


@dataclass
class _Corpus:
    """What grouping needs of the corpus: vocabulary forms, token ids, the form stream,
    doc numbering, the view, the parameters and the notes being written."""

    forms: pl.Series
    ids: np.ndarray
    stream: TokenColumns
    docmap: pl.DataFrame
    view: Any
    p: dict
    notes: list[str]
    seed_tok: pl.DataFrame  # (seed, fid, i): the seeds' content forms in order
    core: pl.DataFrame  # (seed, fid): each seed's core forms
    adm_keys: np.ndarray  # sorted seed * n_voc + fid: the forms frames admit beside the seed
    n_voc: int

    def roles_for(self, tok: pl.DataFrame) -> pl.DataFrame:
        """The roles (:func:`analysis.formulae.match.core_roles`) of the (seed, fid) pairs of ``tok``."""
        pair = tok.select("seed", "fid").unique()
        key = pair["seed"].to_numpy().astype(np.int64) * self.n_voc + pair["fid"].to_numpy()
        i = np.minimum(np.searchsorted(self.adm_keys, key), max(len(self.adm_keys) - 1, 0))
        hit = self.adm_keys[i] == key if len(self.adm_keys) else np.zeros(len(key), bool)
        return core_roles(self.seed_tok, self.core, pair.filter(pl.Series(hit)))


def _group(occ, seeds, core, own, corpus: _Corpus) -> Families:
    """Families around centre seeds (occurrences, seeds, their core and own forms)."""
    p, notes = corpus.p, corpus.notes
    # 4. link seeds whose spans overlap
    blk = span_blocks(occ, ["doc"])
    bs = blk.select("blk", "seed").unique()
    bs = bs.filter(pl.len().over("blk") > 1)  # only blocks where two seeds meet can link them
    pairs = (bs.join(bs.rename({"seed": "other"}), on="blk")
             .filter(pl.col("seed") < pl.col("other"))
             .group_by("seed", "other").agg(pl.len().alias("both")))
    n_occ = occ.group_by("seed").agg(pl.len().alias("m"))
    pairs = (pairs.join(n_occ, on="seed").join(n_occ.rename({"seed": "other", "m": "m2"}), on="other")
             .filter(pl.col("both") >= p["merge_share"] * pl.min_horizontal("m", "m2")))
    # the formal check: a seed joins only a seed whose core it matches (core_match)
    pairs = pairs.sort("seed", "other").with_row_index("g")
    tok = pairs.select("g", "seed", "other").join(corpus.seed_tok.rename({"seed": "other"}), on="other")
    tok = tok.select("g", "seed", "fid", "i")
    chk = match_table(tok, corpus.roles_for(tok), p)
    linked = pairs.join(chk.filter(pl.col("ok")).select("g"), on="g", how="semi")
    notes.append(f"{pairs.height} pairs of seeds overlap; {linked.height} match the other seed's core "
                 f"(<= {p['max_insert']} insertions, <= {p['max_subst']} substitution, admitted by frames)")
    label = seed_centres(seeds.height, linked)
    del blk, bs, pairs, tok, chk, linked  # freed before the families are built (blk: occ again, with its blocks)
    occ = occ.with_columns(pl.col("seed").cast(pl.UInt32))
    args = (seeds, core, own, corpus)
    fams = _build(occ, label, *args)
    # oversized families split: first into their seeds, then to the seeds' own spans
    limit = p["max_variants"]
    # oversized and loose families (most occurrences without the centre) split into their seeds
    big = fams.frame.filter((pl.col("variants") > limit) & (pl.col("cohesion") < p["min_cohesion"]))["family"]
    if big.len():
        labs = fams.extra.filter(pl.col("family").is_in(big.implode()))["fam"]
        hit = label.filter(pl.col("lab").is_in(labs.implode()))["seed"]
        sub_label = label.filter(pl.col("seed").is_in(hit.implode())).with_columns(pl.col("seed").alias("lab"))
        label = pl.concat([label.filter(~pl.col("seed").is_in(hit.implode())), sub_label])
        notes.append(f"{big.len()} families over {limit} wordings with cohesion below "
                     f"{p['min_cohesion']} split into their seeds")
        fams = _merge(fams, big, _build(occ.filter(pl.col("seed").is_in(hit.implode())), label, *args))
    big = fams.frame.filter(pl.col("variants") > limit)["family"]
    if big.len():
        fams = _cap_wordings(fams, big, limit, notes)
    fams.notes = notes
    return fams


def _cap_wordings(fams: Families, big: pl.Series, limit: int, notes: list[str]) -> Families:
    """Families still over ``limit`` wordings keep their ``limit`` most widespread ones;
    the occurrences of the others are left out (and counted in a note)."""
    keep = fams.variants.filter(~pl.col("family").is_in(big.implode())
                                | (pl.int_range(pl.len()).over("family") < limit))
    occ = fams.occurrences.join(keep.select("family", "variant"), on=["family", "variant"], how="semi")
    notes.append(f"{big.len()} families still over {limit} wordings keep their {limit} most widespread; "
                 f"{fams.occurrences.height - occ.height} occurrences of rarer wordings left out")
    counts = occ.filter(pl.col("family").is_in(big.implode())).group_by("family").agg(
        pl.col("doc").n_unique().cast(pl.UInt32).alias("statements"), pl.len().cast(pl.UInt32).alias("occurrences"),
        pl.col("variant").n_unique().cast(pl.UInt32).alias("variants"))
    frame = fams.frame.update(counts, on="family").sort(["statements", "occurrences", "family"],
                                                         descending=[True, True, False])
    return Families(frame, keep, occ, extra=fams.extra)


def _merge(fams: Families, drop: pl.Series, part: Families) -> Families:
    """``fams`` without the families ``drop``, plus ``part`` (tables re-sorted)."""
    def keep(f: pl.DataFrame) -> pl.DataFrame:
        return f.filter(~pl.col("family").is_in(drop.implode()))

    return Families(
        pl.concat([keep(fams.frame), part.frame]).sort(["statements", "occurrences", "family"],
                                                        descending=[True, True, False]),
        pl.concat([keep(fams.variants), part.variants]).sort(
            ["family", "statements", "occurrences", "variant"], descending=[False, True, True, False]),
        pl.concat([keep(fams.occurrences), part.occurrences]).sort("family", "doc", "pos"),
        extra=pl.concat([keep(fams.extra), part.extra]))


def _build(occ, label, seeds, core, own, corpus: _Corpus) -> Families:
    """Families from seed occurrences and each seed's centre (``label``); a merged wording
    that does not match its centre's core (:func:`match_table`) is left out."""
    forms, ids, stream, docmap, view = corpus.forms, corpus.ids, corpus.stream, corpus.docmap, corpus.view
    # a member's occurrence keeps the span its own core extended where that matches the
    # centre's core, else its bare seed span (which matched when the member joined)
    occ = occ.join(label, on="seed")
    mem = ((occ["seed"] != occ["lab"]) & ((occ["a"] != occ["a0"]) | (occ["b"] != occ["b0"]))).to_numpy()
    if mem.any():
        sub = occ.filter(pl.Series(mem))
        chk = _span_check(sub["a"].to_numpy().astype(np.int64), sub["b"].to_numpy().astype(np.int64),
                          sub["lab"].to_numpy(), corpus).sort("g")
        bare = np.zeros(occ.height, bool)
        bare[np.flatnonzero(mem)[chk.filter(~pl.col("ok"))["g"].to_numpy()]] = True
        occ = occ.with_columns(pl.when(pl.Series(bare)).then(pl.col(f"{c}0")).otherwise(pl.col(c)).alias(c)
                               for c in "ab")
    # 5. family occurrences: merge overlapping spans of one family
    fo = span_blocks(occ.rename({"lab": "fam"}), ["fam", "doc"])
    fo = fo.group_by("blk").agg(pl.col("fam").first(), pl.col("doc").first(),
                                pl.col("a").min(), pl.col("b").max(),
                                (pl.col("seed") == pl.col("fam")).any().alias("centre"))
    a, b = fo["a"].to_numpy().astype(np.int64), fo["b"].to_numpy().astype(np.int64)
    # trim non-content pieces (و, ل, articles split off) from both ends of the wording
    cpos = np.flatnonzero(stream.content)
    if len(cpos):
        fa = cpos[np.minimum(sorted_search(cpos, a), len(cpos) - 1)]
        lb = cpos[np.maximum(sorted_search(cpos, b, side="right") - 1, 0)]
        ok = (fa <= b) & (lb >= a) & (fa <= lb)
        a, b = np.where(ok, fa, a), np.where(ok, lb, b)
    fo = fo.with_columns(pl.Series("start", stream.at("start", a)), pl.Series("end", stream.at("end", b)),
                         pl.Series("sent", stream.sent[a]), pl.Series("pos", stream.at("pos", a)),
                         pl.Series("pos_end", stream.at("pos", b)))
    fo = _check_wordings(fo, fo["a"].to_numpy().astype(np.int64), fo["b"].to_numpy().astype(np.int64), corpus)
    texts = view.texts().collect()
    fo = (fo.join(docmap.select(pl.col("d").alias("doc"), pl.col("doc").alias("orig"), "id"), on="doc")
          .join(texts.rename({"doc": "orig"}), on="orig", how="left")
          .with_columns(pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
                        .str.replace_all(r"\s+", " ").str.strip_chars().alias("variant"))
          .drop("text"))
    # signatures: seed forms + core forms per family
    form_of = pl.DataFrame({"fid": np.arange(len(forms), dtype=np.int64), "form": forms})
    sig_f = (pl.concat([own, core]).with_columns(pl.col("seed").cast(pl.UInt32),
                                                 pl.col("fid").cast(pl.Int64))
             .join(label, on="seed").select("lab", "fid").unique().join(form_of, on="fid"))
    sig = sig_f.group_by("lab").agg(pl.col("form").unique().sort().str.join(" ").alias("signature"))
    seed_txt = seeds.select(pl.col("seed").cast(pl.UInt32), "pos", "n").join(label, on="seed")
    return _assemble(fo, sig, seed_txt, forms, ids)


def _span_check(a: np.ndarray, b: np.ndarray, centre: np.ndarray, corpus: _Corpus) -> pl.DataFrame:
    """:func:`match_table` of the spans ``a``..``b`` (pieces) against their ``centre`` seeds.

    A function word is no change, but a seed or core form counts wherever it stands (one
    stem can be a stopword in one place and a content word in another: وحد)."""
    rows, g = suffix.expand_runs(a, np.maximum(b - a + 1, 0))
    tok = pl.DataFrame({"g": g.astype(np.int64), "seed": centre[g].astype(np.uint32),
                        "fid": corpus.ids[rows].astype(np.int64), "i": rows,
                        "content": corpus.stream.content[rows]})
    roles = corpus.roles_for(tok)
    tok = (tok.join(roles.select("seed", "fid", "role"), on=["seed", "fid"], how="left")
           .filter(pl.col("content") | pl.col("role").is_in([0, 1])).select("g", "seed", "fid", "i"))
    return match_table(tok, roles, corpus.p)


def _check_wordings(fo: pl.DataFrame, a: np.ndarray, b: np.ndarray, corpus: _Corpus) -> pl.DataFrame:
    """Family occurrences (pieces ``a``..``b``) whose wording matches the core of the
    family's centre, with the ``kind`` of variant and the ``filler`` (changed forms)."""
    if fo.height == 0:
        return fo.with_columns(pl.lit(None, pl.String).alias("kind"), pl.lit(None, pl.String).alias("filler"))
    chk = _span_check(a, b, fo["fam"].to_numpy(), corpus)
    form_of = pl.DataFrame({"f": np.arange(len(corpus.forms), dtype=np.int64), "form": corpus.forms})
    filler = (chk.select("g", "changes").explode("changes").with_row_index("_o")
              .join(form_of, left_on="changes", right_on="f", how="left").sort("_o")
              .group_by("g", maintain_order=True).agg(pl.col("form").drop_nulls().str.join(" ").alias("filler")))
    out = (fo.with_row_index("g").with_columns(pl.col("g").cast(pl.Int64))
           .join(chk.select("g", "ok", "kind"), on="g", how="left").join(filler, on="g", how="left")
           .filter(pl.col("ok").fill_null(False)).drop("g", "ok"))
    if out.height < fo.height:
        corpus.notes.append(f"{fo.height - out.height} family occurrences whose wording does not match the "
                            "core of the family's centre seed left out")
    return out


def _assemble(fo, sig, seed_txt, forms, ids) -> Families:
    ids_doc = fo.select("fam", "variant", "kind", "filler", pl.col("orig").alias("d"), "pos", "id")
    first = ["d", "pos"]  # a wording's kind and filler: its first occurrence's (any row was taken, varying run to run)
    variants = (ids_doc.group_by("fam", "variant")
                .agg(pl.col("kind").sort_by(first).first(), pl.col("filler").sort_by(first).first(),
                     pl.col("d").n_unique().alias("statements"), pl.len().alias("occurrences"),
                     pl.col("d").unique().sort().alias("docs"), pl.col("id").unique().sort().alias("ids")))
    canon = (variants.with_columns(pl.col("variant").str.len_chars().alias("_l"))
             .sort(["fam", "statements", "occurrences", "_l", "variant"],
                   descending=[False, True, True, False, False])
             .group_by("fam", maintain_order=True).agg(pl.col("variant").first().alias("canonical")))
    frame = (fo.group_by("fam").agg(pl.col("orig").n_unique().alias("statements"),
                                    pl.len().alias("occurrences"),
                                    pl.col("variant").n_unique().alias("variants"),
                                    pl.col("centre").mean().alias("cohesion"))
             .join(canon, on="fam").join(sig.rename({"lab": "fam"}), on="fam", how="left"))
    # seed phrases per family (forms); the id hashes the signature and the seeds (a seed is
    # in one family only, so ids are unique even where two families share a signature)
    st = seed_txt.sort("seed")
    st = st.with_columns(phrase_strings(ids, forms, st["pos"].to_numpy(),
                                        st["n"].to_numpy()).alias("seed_phrase"))
    seeds_by = st.group_by("lab").agg(pl.col("seed_phrase").sort().alias("seeds")).rename({"lab": "fam"})
    frame = frame.join(seeds_by, on="fam", how="left")
    key = pl.concat_str([pl.col("signature").fill_null(""), pl.col("seeds").list.join("|")], separator="|")
    frame = frame.with_columns(key.map_batches(
        lambda s: pl.Series([f"fam-{hashlib.sha256(x.encode()).hexdigest()[:10]}" for x in s.to_list()]),
        return_dtype=pl.String).alias("family"))
    fam_id = frame.select("fam", "family")
    extra = fam_id
    frame = (frame.select("family", "canonical", "signature", pl.col("statements").cast(pl.UInt32),
                          pl.col("occurrences").cast(pl.UInt32), pl.col("variants").cast(pl.UInt32),
                          "cohesion", "seeds")
             .sort(["statements", "occurrences", "family"], descending=[True, True, False]))
    variants = (variants.join(fam_id, on="fam")
                .select("family", "variant", "kind", "filler", pl.col("statements").cast(pl.UInt32),
                        pl.col("occurrences").cast(pl.UInt32), pl.col("docs").cast(pl.List(pl.UInt32)), "ids")
                .sort(["family", "statements", "occurrences", "variant"], descending=[False, True, True, False]))
    occurrences = (fo.join(fam_id, on="fam")
                   .select("family", pl.col("orig").cast(pl.UInt32).alias("doc"), "id",
                           pl.col("sent").cast(pl.UInt32), pl.col("pos").cast(pl.UInt32),
                           pl.col("pos_end").cast(pl.UInt32), pl.col("start").cast(pl.UInt32),
                           pl.col("end").cast(pl.UInt32), "variant")
                   .sort("family", "doc", "pos"))
    return Families(frame, variants, occurrences, extra=extra)


def _empty(params, notes) -> Families:
    frame = pl.DataFrame(schema={"family": pl.String, "canonical": pl.String, "signature": pl.String,
                                 "statements": pl.UInt32, "occurrences": pl.UInt32,
                                 "variants": pl.UInt32, "cohesion": pl.Float64, "seeds": pl.List(pl.String)})
    variants = pl.DataFrame(schema={"family": pl.String, "variant": pl.String, "kind": pl.String,
                                    "filler": pl.String, "statements": pl.UInt32,
                                    "occurrences": pl.UInt32, "docs": pl.List(pl.UInt32),
                                    "ids": pl.List(pl.String)})
    occ = pl.DataFrame(schema={"family": pl.String, "doc": pl.UInt32, "id": pl.String, "sent": pl.UInt32,
                               "pos": pl.UInt32, "pos_end": pl.UInt32, "start": pl.UInt32,
                               "end": pl.UInt32, "variant": pl.String})
    return Families(frame, variants, occ, params, notes)
