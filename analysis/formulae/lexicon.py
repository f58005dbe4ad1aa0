"""The formula lexicon: load, validate, expand patterns, accept families into it.

A lexicon (``corpus/formulae.yml``, schema in its header) names diplomatic formulae and
lists the patterns that realise each one. A pattern is either a ``phrase`` (a token
sequence with optional alternatives, optional words and bounded gaps) or an ``all`` set
(every item within ``window`` tokens of one another in one sentence, in any order unless
``ordered: true``).

Matching runs on the **form stream** (``tokens_level``: doc, sent, pos, start, end, form)
at a level (``exact``/``norm``/``clitic``/``stem``). Each pattern word is turned into forms
by ``analyzer.query_forms(word, level)`` — exactly as the corpus was processed — so a
lexicon wording matches its inflected and cliticised variants at the ``stem`` level.

Matching is :mod:`analysis.formulae.match`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FormulaeError
from ..store import atomic_file
from ..text.pattern import MAX_EXPANSIONS, MAX_GAP, pattern_parse, pattern_sequences  # noqa: F401 (the grammar lives in text.pattern)
from ..vocab import LANGUAGES, LEVELS

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


ENV_LEXICON = "FORMULAE_LEXICON"


def lexicon_default_path() -> Path:
    """The lexicon used when none is named: ``$FORMULAE_LEXICON``, else
    ``corpus/formulae.yml`` under the current folder (the project root, where ``make``
    and the CLI run). A declaration's ``lexicon:`` key and the CLI's ``--lexicon``
    name another file."""
    return Path(os.environ.get(ENV_LEXICON) or Path("corpus") / "formulae.yml")


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


def lexicon_words(lexicon: Lexicon, lang: str) -> tuple[str, ...]:
    """Every fixed wording of the lexicon's ``lang`` patterns, words joined without spaces
    (``不干涉 (别国|他国)? 内政`` -> ``不干涉内政``, ``不干涉别国内政``, ``不干涉他国内政``):
    the user words of a word segmenter for text written without spaces (Chinese). Wordings
    with a gap (``*``) are left out. Sorted, distinct."""
    out: set[str] = set()
    for f in lexicon.formulae:
        for p in f.patterns:
            if p.lang != lang:
                continue
            for item in p.items:
                for seq in pattern_sequences(item, lambda w: w.split()):
                    if seq and None not in seq:
                        out.add("".join(w for w in seq if w is not None))
    return tuple(sorted(out))


def lexicon_user_words(lang: str) -> tuple[str, ...]:
    """:func:`lexicon_words` of the default lexicon (:func:`lexicon_default_path`); none when
    there is no lexicon file."""
    path = lexicon_default_path()
    return lexicon_words(lexicon_load(path), lang) if path.exists() else ()


# ----------------------------------------------------------------------- loading


def _yaml_with_lines(text: str, path: str):
    import yaml

    # libyaml's parser where PyYAML has it: the default lexicon parsed in 1.6 ms, not 15
    # (a process's first load, yaml imported: 14 ms, not 26-30); the same data and lines
    # (a syntax error's wording is libyaml's)
    base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[valid-type,misc]
        pass

    def construct_mapping(loader, node, deep=False):
        mapping = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)
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


def _check_syntax(text: str, fid: str, path: str, line: int | None) -> None:
    try:
        pattern_parse(text)
    except ValueError as exc:
        raise FormulaeError(f"formula {fid!r}: pattern {text!r}: {exc}", file=path, line=line) from None


# ----------------------------------------------------------------------- expansion


def lexicon_accept(families, family_id: str, *, language: str, path: str | Path | None = None,
                   max_variants: int = 12) -> Formula:
    """Append a family to the lexicon file as a formula (its wordings as literal phrases).

    The file is re-validated with the new entry before it is written (atomically); comments
    and layout of the existing file are kept. Raises if the id is already there.
    """
    import polars as pl

    path = Path(path) if path is not None else lexicon_default_path()
    row = families.get(family_id).row(0, named=True)
    if any(f.id == family_id for f in lexicon_load(path).formulae):
        raise FormulaeError(f"family {family_id!r} is already in the lexicon", file=path)
    variants = (families.variants.filter(pl.col("family") == family_id)
                .head(max_variants)["variant"].to_list())
    clean = []
    for v in variants:
        text = re.sub(r"[()|*?]", " ", v)
        text = " ".join(text.split())
        if text and text not in clean:
            clean.append(text)
    note = (f"accepted from families: signature '{row['signature']}', "
            f"{row['statements']} statements, {row['variants']} wordings")
    return lexicon_add(family_id, row["canonical"], clean, language=language, path=path, note=note)


def lexicon_add(formula_id: str, label: str, phrases: list[str], *, language: str,
                path: str | Path | None = None, note: str = "") -> Formula:
    """Append a formula (literal phrases) to the lexicon file, validated first, atomically.

    Comments and layout of the existing file are kept. Raises if the id is already there."""
    import yaml

    path = Path(path) if path is not None else lexicon_default_path()
    current = lexicon_load(path)
    if any(f.id == formula_id for f in current.formulae):
        raise FormulaeError(f"formula {formula_id!r} is already in the lexicon", file=path)
    entry = {"id": formula_id, "label": label, "note": note,
             "patterns": [{"lang": language, "phrase": t} for t in phrases]}
    block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=1000)
    block = "".join("  " + line if line.strip() else line for line in block.splitlines(True))
    text = path.read_text(encoding="utf-8")
    new_text = text.rstrip("\n") + "\n\n" + block
    updated = lexicon_parse(_yaml_with_lines(new_text, str(path)), str(path))  # validate first
    with atomic_file(path, "w") as fh:
        fh.write(new_text)
    return updated.get(formula_id)
