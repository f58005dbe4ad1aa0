"""Per-word analysis: Arabic proclitics, stems, stopwords, aliases, and the Analyzer.

Everything here runs in plain Python once per *distinct* word and is memoised;
the polars side (:meth:`Analyzer.forms`) joins the per-word results back onto the
token table.

Clitic rule (level ``clitic``). A proclitic is split off a word of Arabic script
only where the rest is itself a known word:

* conjunctions و ف, then prepositions ب ك ل (``لل`` is ل + ال, the alef restored:
  ``للعلاقات`` -> ``ل + العلاقات``); the article ال stays on its word by default
  (``والاحترام`` -> ``و + الاحترام``), so definite phrases read as written;
  ``Analyzer(split_article=True)`` splits it too (``و + ال + احترام``);
* *known* means: in the built-in lexicon (:data:`LEXICON`: common diplomatic and
  news vocabulary plus the stopwordsiso Arabic list), in the user's lexicon, or in
  the corpus vocabulary (norm level, article on or off) at least a quarter as often
  as the whole word (so ``وحده`` 'unity', far more frequent than ``حده``, stays whole);
* a word that is itself in the lexicon is never split (``وزير``, ``ولي``, ``بلد``), and
  the rest must keep at least two letters. So ``بوتين`` and ``بناءه`` stay whole and
  ``وسلامة`` -> ``و + سلامه``.

Stems (level ``stem``): Arabic-script pieces by NLTK's ISRI root stemmer (default)
or ARLSTem2 (``stemmer="arlstem2"``); Latin by Snowball English, Cyrillic by
Snowball Russian; numbers unchanged. None of them needs downloaded NLTK data.
ISRI gives ``سلامه -> سلم``, ``اراضي/اراضيها -> رضي``, ``سياده/سيادتها -> سيد``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

from .errors import FormulaeError
from .text import normalise

CONJUNCTIONS = ("و", "ف")
PREPOSITIONS = ("ب", "ك", "ل")
ARTICLE = "ال"
STEMMERS = ("isri", "arlstem2")
_SUFFIXES = ("هما", "كما", "هم", "هن", "كم", "كن", "نا", "ها", "ه", "ك", "ي")
_ARABIC = re.compile(r"^[\u0621-\u064a\u0671-\u06d3]+$")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z\u00e0-\u024f]")

# Common Modern Standard Arabic vocabulary of diplomatic statements and news, so
# that small corpora (like the two-post sample) split clitics correctly. Words are
# normalised when loaded; words that begin with و ف ب ك ل and are whole words
# (وزير، ولايه، بلد) are listed so they are never split.
_LEXICON_TEXT = """
سلامة وحدة سيادة أراضي أراضيها أرض استقلال احترام متبادل تعاون صداقة علاقات علاقة
شراكة حوار تسوية سلام أمن استقرار دعم تأكيد موقف مبدأ مبادئ قانون دولي ميثاق الأمم المتحدة
مجلس الأمن جامعة الدول العربية دولة دول حكومة شعب شعوب رئيس وزير وزارة وزراء خارجية
داخلية دفاع سفير سفارة قنصلية وفد وفود زيارة لقاء اجتماع محادثات مباحثات مفاوضات اتفاق
اتفاقية اتفاقيات معاهدة بيان تصريح مؤتمر قمة منظمة مصالح مصلحة مشتركة مشترك قضايا قضية
مسائل مسألة شؤون شأن داخلي تدخل عدم سياسة سياسي سياسية اقتصاد اقتصادي اقتصادية تجارة
تجاري استثمار تنمية مساعدة مساعدات إنسانية لاجئين إرهاب مكافحة تطرف عنف حرب أزمة نزاع
صراع حل حلول سلمي سلمية عسكري عسكرية قوات جيش أسلحة نووي منطقة إقليم إقليمي إقليمية
الشرق الأوسط عربي عربية إسلامي إسلامية روسيا سوريا مصر العراق لبنان الأردن فلسطين
إسرائيل إيران تركيا اليمن ليبيا السعودية المملكة الإمارات قطر الكويت عمان البحرين
الجمهورية جمهورية الاتحادية اتحاد روسي روسية سوري سورية سعودي أمريكي أمريكية الولايات
رغبة مواصلة استمرار تعزيز تطوير توسيع بناء تقديم إقامة تنفيذ تحقيق ضمان حماية احتواء
القوى قوى طيف مجموعات مجموعة عرقية دينية طائفية مكونات مكون مجتمع مدني انتقالية مرحلة
إدارة سلطة حكم انتخابات دستور إصلاح إصلاحات عدالة حقوق إنسان حرية حريات كرامة
تقاليد تقليدية تاريخية تاريخ صداقة ثقة تفاهم تضامن أخوة أخوية جوار حسن نية إرادة
ثنائي ثنائية ثنائيا متعدد متعددة الأطراف طرف أطراف جانب جانبين الجانبان الجانبين
اتصالات اتصال تبادل وجهات نظر آراء رأي وضع أوضاع راهن راهنة حالي حالية تطورات
أهمية ضرورة حاجة إطار عملية مسار خطوات خطوة إجراءات إجراء آلية آليات برنامج خطة
مشاكل مشكلة تحديات تحدي قيادة قائد قادة زعيم ملك أمير ولي عهد نائب ممثل خاص مبعوث
وزير وزارة ولاية ولايات وطن وطني وطنية وقت وضع وفد وكالة واشنطن وحده وثيقة وثائق واجب
فلسطيني فلسطينية فرنسا فريق فترة فرصة فرص بلد بلدان بلاد بيان بناء بنية بحث برلمان
كلمة كبير كبيرة كامل كاملة لجنة لقاء لبنان لندن ليبيا
في من إلى على عن مع بين حول خلال منذ بعد قبل عند لدى ضد نحو عبر حتى
"""


@lru_cache(maxsize=2)
def _builtin_lexicon() -> frozenset[str]:
    import stopwordsiso

    words = set(_LEXICON_TEXT.split()) | set(stopwordsiso.stopwords("ar"))
    return frozenset(normalise(w, "ar") for w in words)


def stopwords(language: str, *, mode: str = "norm") -> frozenset[str]:
    """Offline stopword list (stopwordsiso), normalised like the corpus (``norm`` mode)."""
    import stopwordsiso

    if not stopwordsiso.has_lang(language):
        raise FormulaeError(f"no stopword list for language {language!r}")
    return frozenset(normalise(w, language, mode) for w in stopwordsiso.stopwords(language))


def aliases_load(path: str | Path, language: str = "ar") -> dict[str, str]:
    """Read an alias table: ``aliases: {canonical: [variant, ...]}``; -> {variant: canonical}.

    Keys and values are normalised (``norm``); each must be one word. A variant
    listed under two names, or a name that is also a variant, is an error naming
    the file and line.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FormulaeError(f"cannot read alias table: {exc.strerror}", file=path) from None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise FormulaeError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=path,
            line=None if line is None else line + 1,
        ) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise FormulaeError("alias table must be a mapping with key 'aliases'", file=path, line=1)
    table: dict[str, str] = {}
    where: dict[str, int] = {}
    for key, value in node.value:
        if key.value != "aliases":
            raise FormulaeError(
                f"unknown key {key.value!r} (allowed: aliases)",
                file=path,
                line=key.start_mark.line + 1,
            )
        if not isinstance(value, yaml.MappingNode):
            raise FormulaeError(
                "'aliases' must map each name to a list of variants",
                file=path,
                line=value.start_mark.line + 1,
            )
        for name_node, vars_node in value.value:
            line = name_node.start_mark.line + 1
            items = vars_node.value if isinstance(vars_node, yaml.SequenceNode) else [vars_node]
            name = _one_word(str(name_node.value), path, line, language)
            for item in items:
                if not isinstance(item, yaml.ScalarNode):
                    raise FormulaeError(
                        f"variants of {name_node.value!r} must be words", file=path, line=line
                    )
                var = _one_word(str(item.value), path, item.start_mark.line + 1, language)
                if var == name:
                    continue
                if var in table and table[var] != name:
                    raise FormulaeError(
                        f"variant {item.value!r} is listed under {table[var]!r} (line {where[var]}) and {name_node.value!r}",
                        file=path,
                        line=item.start_mark.line + 1,
                    )
                table[var] = name
                where[var] = item.start_mark.line + 1
    for name in table.values():
        if name in table:
            raise FormulaeError(
                f"{name!r} is both a name and a variant of {table[name]!r}",
                file=path,
                line=where[name],
            )
    return dict(sorted(table.items()))


def _one_word(raw: str, path: Path, line: int, language: str) -> str:
    form = normalise(raw.strip(), language)
    if not form or len(form.split()) != 1:
        raise FormulaeError(f"alias entry {raw!r} must be exactly one word", file=path, line=line)
    return form


class Analyzer:
    """Per-corpus word analysis: aliases, clitic splits and stems, memoised per word.

    Build it with :meth:`from_tokens` from a corpus token table (the vocabulary at
    ``norm`` level decides which clitic splits are made), then use it for the corpus
    (:func:`analysis.tokens.tokens_level`) and for every query (:meth:`query_forms`).
    """

    def __init__(
        self,
        language: str,
        vocabulary: dict[str, int] | None = None,
        *,
        aliases: dict[str, str] | None = None,
        lexicon: Iterable[str] = (),
        split_article: bool = False,
        stemmer: str = "isri",
        line_breaks: str = "paragraph",
    ):
        if stemmer not in STEMMERS:
            raise FormulaeError(f"stemmer {stemmer!r} is not one of {', '.join(STEMMERS)}")
        self.language = language
        self.aliases = dict(aliases or {})
        self.split_article = split_article
        self.stemmer = stemmer
        self.line_breaks = line_breaks
        self.user_lexicon = frozenset(normalise(w, language) for w in lexicon)
        self.lexicon = _builtin_lexicon() | self.user_lexicon
        self.counts = dict(vocabulary or {})
        self._split: dict[str, tuple[str, ...]] = {}
        self._stem: dict[str, str] = {}
        self._stemmers: dict[str, object] = {}

    # --- construction -------------------------------------------------------
    @classmethod
    def from_tokens(
        cls,
        tokens: pl.LazyFrame | pl.DataFrame,
        language: str,
        *,
        aliases: dict[str, str] | str | Path | None = None,
        **options,
    ) -> Analyzer:
        """Analyzer whose vocabulary is the corpus's word forms (``norm``, aliases applied)."""
        if isinstance(aliases, (str, Path)):
            aliases = aliases_load(aliases, language)
        lf = tokens.lazy() if isinstance(tokens, pl.DataFrame) else tokens
        vocab = lf.filter(pl.col("kind") == "word").group_by("norm").len().sort("norm").collect()
        counts: dict[str, int] = {}
        table = aliases or {}
        for form, n in zip(vocab["norm"].to_list(), vocab["len"].to_list(), strict=True):
            key = table.get(form, form)
            counts[key] = counts.get(key, 0) + n
        return cls(language, counts, aliases=aliases, **options)

    def fingerprint(self) -> str:
        """Hash of everything that decides the forms (not the vocabulary: that is the snapshot's)."""
        blob = json.dumps(
            {
                "language": self.language,
                "aliases": self.aliases,
                "user_lexicon": sorted(self.user_lexicon),
                "builtin_lexicon": hashlib.sha256(
                    "\n".join(sorted(_builtin_lexicon())).encode()
                ).hexdigest(),
                "split_article": self.split_article,
                "stemmer": self.stemmer,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def params(self) -> dict:
        return {
            "language": self.language,
            "split_article": self.split_article,
            "stemmer": self.stemmer,
            "aliases": len(self.aliases),
            "lexicon": len(self.user_lexicon),
            "fingerprint": self.fingerprint(),
        }

    # --- per word -----------------------------------------------------------
    def alias(self, form: str) -> str:
        return self.aliases.get(form, form)

    def _score(self, word: str) -> float:
        """How well attested ``word`` is as a word on its own (inf = lexicon).

        A pronoun suffix is looked through (``سيادتها`` counts as ``سياده``: the ta
        marbuta written ت before a suffix is restored).
        """
        best = self._score_one(word)
        for suffix in _SUFFIXES:
            if best == float("inf"):
                break
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                base = word[: -len(suffix)]
                best = max(best, self._score_one(base))
                if base.endswith("ت"):
                    best = max(best, self._score_one(base[:-1] + "ه"))
        return best

    def _score_one(self, word: str) -> float:
        if word in self.lexicon:
            return float("inf")
        n = self.counts.get(word, 0)
        if word.startswith(ARTICLE):
            bare = word[2:]
            if bare in self.lexicon:
                return float("inf")
            n += self.counts.get(bare, 0)
        else:
            n += self.counts.get(ARTICLE + word, 0)
        return float(n)

    def split(self, form: str) -> tuple[str, ...]:
        """Clitic pieces of a ``norm`` form (aliases already applied)."""
        hit = self._split.get(form)
        if hit is None:
            hit = (
                self._split_stage(form, 0, self.counts.get(form, 0))
                if _ARABIC.match(form)
                else (form,)
            )
            self._split[form] = hit
        return hit

    def _split_stage(self, w: str, stage: int, whole: int) -> tuple[str, ...]:
        if len(w) < 3 or w in self.lexicon:
            return (w,)
        stages = [CONJUNCTIONS, PREPOSITIONS] + ([(ARTICLE,)] if self.split_article else [])
        for i in range(stage, len(stages)):
            for p in stages[i]:
                if not w.startswith(p):
                    continue
                rest = w[len(p) :]
                if p == "ل" and rest.startswith("ل"):
                    rest = "ا" + rest  # لل = ل + ال
                if len(rest) < 2:
                    continue
                if self._score(rest) * 4 >= max(whole, 1):
                    tail = self._split_stage(rest, i + 1, whole)
                    return (p, *tail)
                tail = self._split_stage(rest, i + 1, whole)
                if len(tail) > 1:
                    return (p, *tail)
        return (w,)

    def stem(self, form: str) -> str:
        hit = self._stem.get(form)
        if hit is None:
            hit = self._stem_one(form)
            self._stem[form] = hit
        return hit

    def _stem_one(self, form: str) -> str:
        if _ARABIC.match(form):
            if form in PREPOSITIONS or form in CONJUNCTIONS or form == ARTICLE:
                return form
            out = self._stemmer("ar").stem(form)
            return out or form
        if _CYRILLIC.search(form):
            return self._stemmer("ru").stem(form) or form
        if _LATIN.search(form):
            return self._stemmer("en").stem(form) or form
        return form

    def _stemmer(self, lang: str):
        st = self._stemmers.get(lang)
        if st is None:
            if lang == "ar":
                if self.stemmer == "isri":
                    from nltk.stem.isri import ISRIStemmer

                    st = ISRIStemmer()
                else:
                    from nltk.stem.arlstem2 import ARLSTem2

                    st = ARLSTem2()
            else:
                from nltk.stem.snowball import SnowballStemmer

                st = SnowballStemmer("english" if lang == "en" else "russian")
            self._stemmers[lang] = st
        return st

    def pieces(self, surface: str, norm: str, level: str) -> list[tuple[str, int, int]]:
        """Forms of one token at ``clitic``/``stem`` with offsets relative to the surface."""
        parts = [self.alias(p) for p in self.split(self.alias(norm))]
        out: list[tuple[str, int, int]] = []
        pos = 0
        npos = 0  # position in the (alias-free) norm form
        for k, part in enumerate(parts):
            if k == len(parts) - 1:
                out.append((part, pos, len(surface)))
                break
            need = len(part)
            if (
                part.startswith(ARTICLE)
                and k > 0
                and parts[k - 1] == "ل"
                and norm[npos : npos + 1] == "ل"
            ):
                need -= 1  # the alef of ال restored after ل (لل)
            end = _advance(surface, pos, need)
            out.append((part, pos, end))
            pos = end
            npos += need
        if level == "stem":
            out = [(self.stem(f), s, e) for f, s, e in out]
        return out

    # --- polars side --------------------------------------------------------
    def forms(self, countable: pl.LazyFrame, level: str) -> pl.LazyFrame:
        """``doc sent start end form`` for countable tokens at ``norm``/``clitic``/``stem``."""
        lf = countable
        if self.aliases:
            keys = list(self.aliases)
            lf = lf.with_columns(pl.col("norm").replace(keys, [self.aliases[k] for k in keys]))
        if level == "norm":
            return lf.select("doc", "sent", "start", "end", pl.col("norm").alias("form"))
        distinct = lf.select("surface", "norm").unique().collect()
        rows = [
            (s, n, self.pieces(s, n, level))
            for s, n in zip(distinct["surface"].to_list(), distinct["norm"].to_list(), strict=True)
        ]
        rows = [(s, n, p) for s, n, p in rows if len(p) > 1 or p[0][0] != n]
        table = pl.DataFrame(
            {
                "surface": [r[0] for r in rows],
                "norm": [r[1] for r in rows],
                "_f": [[p[0] for p in r[2]] for r in rows],
                "_s": [[p[1] for p in r[2]] for r in rows],
                "_e": [[p[2] for p in r[2]] for r in rows],
            },
            schema={
                "surface": pl.String,
                "norm": pl.String,
                "_f": pl.List(pl.String),
                "_s": pl.List(pl.UInt32),
                "_e": pl.List(pl.UInt32),
            },
        )
        return (
            lf.join(table.lazy(), on=["surface", "norm"], how="left", maintain_order="left")
            .with_columns(
                pl.col("_f").fill_null(pl.concat_list(pl.col("norm"))),
                pl.col("_s").fill_null(pl.concat_list(pl.lit(0, pl.UInt32))),
                pl.col("_e").fill_null(
                    pl.concat_list((pl.col("end") - pl.col("start")).cast(pl.UInt32))
                ),
            )
            .explode(["_f", "_s", "_e"])
            .select(
                "doc",
                "sent",
                (pl.col("start") + pl.col("_s")).alias("start"),
                (pl.col("start") + pl.col("_e")).alias("end"),
                pl.col("_f").alias("form"),
            )
        )

    def query_forms(self, phrase: str, level: str) -> list[str]:
        """A query phrase as forms at ``level``, processed exactly like the corpus."""
        from .tokens import tokens_build, tokens_level

        frame = pl.DataFrame(
            {"doc": [0], "text": [phrase]}, schema={"doc": pl.UInt32, "text": pl.String}
        )
        toks = tokens_build(frame, language=self.language, line_breaks=self.line_breaks)
        return tokens_level(toks, level, analyzer=self).collect()["form"].to_list()


def _advance(surface: str, pos: int, letters: int) -> int:
    """Index in ``surface`` after ``letters`` letters that survive normalisation from ``pos``."""
    i = pos
    seen = 0
    while i < len(surface) and seen < letters:
        if normalise(surface[i], "ar"):
            seen += 1
        i += 1
    while i < len(surface) and not normalise(surface[i], "ar"):
        i += 1  # marks after the last letter belong to the clitic
    return i
