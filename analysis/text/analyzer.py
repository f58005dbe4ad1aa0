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
* *known* means: in the built-in lexicon (a curated list of diplomatic and news
  vocabulary plus the stopwordsiso Arabic list), in the user's lexicon, or in the
  corpus vocabulary (norm level, article on or off) at least 3 times and at least a
  quarter as often as the whole word (ك, the riskiest letter: twice as often), so
  ``وحده`` 'unity', far more frequent than ``حده``, stays whole; a pronoun suffix is
  looked through against the lexicon (``وسيادتها`` -> ``و + سيادتها``);
* a word of the curated list or of the user's lexicon, and a stopword beginning with
  ب ك ل, is never split (``وزير``, ``ولي``, ``بعد``, ``كان``); the rest must keep at
  least two letters. So ``بوتين`` and ``بناءه`` stay whole, ``وسلامة`` -> ``و + سلامه``,
  ``وفي`` -> ``و + في``.

Lemmas (level ``lemma``, Russian): pymorphy3's dictionary form (``рынка`` -> ``рынок``,
where Snowball gives ``рынк``; ``территориальной целостности`` -> ``территориальный
целостность``).

Stems (level ``stem``): Arabic-script pieces by NLTK's ISRI root stemmer (default)
or ARLSTem2 (``stemmer="arlstem2"``); Cyrillic by Snowball Russian; Latin by the
corpus language's Snowball stemmer (``analysis.vocab.STEMMERS``: French, Spanish,
German ...), English for a language without one; numbers unchanged. A language
without a stemmer has no ``stem`` level (``analysis.vocab.language_levels``). None of them needs downloaded NLTK data.
ISRI gives ``سلامه -> سلم``, ``اراضي/اراضيها -> رضي``, ``سياده/سيادتها -> سيد``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import FormulaeError
from ..vocab import LANGUAGES, check, check_level
from ..vocab import STEMMERS as LANGUAGE_STEMMERS
from .normalise import normalise
from .tokens import tokens_build, tokens_level
from .versions import library_versions

CONJUNCTIONS = ("و", "ف")
PREPOSITIONS = ("ب", "ك", "ل")
ARTICLE = "ال"
STEMMERS = ("isri", "arlstem2")
_INF = float("inf")
# A split licensed by corpus counts alone needs the rest at least this often, and
# at least _RATIO (ك: _RATIO_KAF) times as often as the whole word.
_MIN_COUNT = 3
_RATIO = 0.25
_RATIO_KAF = 2.0
_SUFFIXES = ("هما", "كما", "هم", "هن", "كم", "كن", "نا", "ها", "ه", "ك", "ي")
ARABIC_LETTERS = "[\u0621-\u064a\u0671-\u06d3]"  # the letters of the words the clitic splitter reads
ARABIC_WORD = f"^{ARABIC_LETTERS}+$"  # a word of those letters only: the only words whose splits read counts
_ARABIC = re.compile(ARABIC_WORD)
SPLITTABLE = f"^[وفبكل]{ARABIC_LETTERS}{{2,}}$"  # the norms that can split: 3+ letters, a proclitic first
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
واحد واحدة واحدا فقط فوق وراء وسط وفق وسائل وجود وجه وجهة وضع وقت برنامج باسم بداية فترة فريق فعاليات
فيه فيهم فيهما فيهن كافة فيصل فكرة فكر بلدية باب بعيد بعيدة كلية وادي فعل فعلا
أضاف أضافت أكد أكدت أوضح أوضحت أشار أشارت لفت لفتت قال قالت ذكر ذكرت تابع تابعت شدد
شددت اعتبر أعلن أعلنت كشف كشفت دعا دعت أفاد أفادت أعرب أعربت رحب رحبت جدد جددت
"""


@lru_cache(maxsize=2)
def _builtin_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(keep, known): words never split, and words that license a split.

    ``keep``: the curated list (which holds whole words such as واحد، فقط، وزير), plus
    stopwords that begin with ب ك ل (بعد، كان، لكن) but not with the article after
    them (للامم in the stopword list is ل + الامم).
    ``known``: ``keep`` plus every stopword (so وفي، ومن، وهو split into و + في ...).
    """
    import stopwordsiso

    curated = {normalise(w, "ar") for w in _LEXICON_TEXT.split()}
    stop = {normalise(w, "ar") for w in stopwordsiso.stopwords("ar")} - {""}
    keep = set(curated)
    for w in stop:
        if w[:1] in PREPOSITIONS and not w.startswith(("لل", "بال", "كال")):
            keep.add(w)
    return frozenset(keep), frozenset(keep | stop)


def stopwords(language: str, *, mode: str = "norm") -> frozenset[str]:
    """Offline stopword list (stopwordsiso), normalised like the corpus (``norm`` mode);
    empty for a language stopwordsiso has no list for (nothing is then taken out)."""
    import stopwordsiso

    check("language", language, LANGUAGES)
    if not stopwordsiso.has_lang(language):
        return frozenset()
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
        vocabulary=None,
        *,
        aliases: dict[str, str] | None = None,
        lexicon: Iterable[str] = (),
        split_article: bool = False,
        stemmer: str = "isri",
        line_breaks: str = "paragraph",
        mode: str = "norm",
    ):
        if stemmer not in STEMMERS:
            raise FormulaeError(f"stemmer {stemmer!r} is not one of {', '.join(STEMMERS)}")
        self.language = check("language", language, LANGUAGES)
        self.aliases = dict(aliases or {})
        self.split_article = split_article
        self.stemmer = stemmer
        self.line_breaks = line_breaks
        self.mode = mode
        self.user_lexicon = frozenset(normalise(w, language, mode) for w in lexicon)
        keep, known = _builtin_lexicon()
        self.keep = keep | self.user_lexicon
        self.lexicon = known | self.user_lexicon
        # any mapping form -> count with .get (a dict, or a lazy reader of an index)
        self.counts = vocabulary if vocabulary is not None else {}
        self._split: dict[str, tuple[str, ...]] = {}
        self._stem: dict[str, str] = {}
        self._lemma: dict[str, str] = {}
        self._morph: Any = None  # pymorphy3.MorphAnalyzer, loaded on first use
        self._stemmers: dict[str, object] = {}

    # --- construction -------------------------------------------------------
    @classmethod
    def from_tokens(cls, tokens: pl.LazyFrame | pl.DataFrame, language: str, *,
                    aliases: dict[str, str] | str | Path | None = None, **options) -> Analyzer:
        """Analyzer whose vocabulary is the corpus's word forms (``norm``, aliases applied)."""
        lf = tokens.lazy() if isinstance(tokens, pl.DataFrame) else tokens
        vocab = lf.filter(pl.col("kind") == "word").group_by("norm").len().sort("norm").collect()
        return cls.from_vocab(vocab, language, aliases=aliases, **options)

    @classmethod
    def from_vocab(cls, vocab: pl.DataFrame, language: str, *,
                   aliases: dict[str, str] | str | Path | None = None, **options) -> Analyzer:
        """Analyzer whose vocabulary is ``vocab`` (``norm``, its words' count ``len``, sorted
        by ``norm``: :meth:`from_tokens`'s, or the sum of a corpus's shards')."""
        if isinstance(aliases, (str, Path)):
            aliases = aliases_load(aliases, language)
        counts: dict[str, int] = {}
        table = aliases or {}
        for form, n in zip(vocab["norm"].to_list(), vocab["len"].to_list(), strict=True):
            key = table.get(form, form)
            counts[key] = counts.get(key, 0) + n
        return cls(language, counts, aliases=aliases, **options)

    @classmethod
    def for_corpus(cls, manifest: dict, *, tokens: pl.LazyFrame | pl.DataFrame | None = None,
                   counts=None, vocab: pl.DataFrame | None = None) -> Analyzer:
        """The analyzer of a corpus snapshot, from its manifest: language, line breaks and
        the alias table it names; the vocabulary from the corpus ``tokens``, ``vocab``
        (:meth:`from_vocab`) or ``counts`` (any mapping norm form -> count). The one way the
        package builds a corpus's analyzer: index build, queries, corpus views and ``tokens_explain``."""
        language = manifest.get("language", "en")
        path = manifest.get("aliases")
        aliases = aliases_load(path, language) if path and Path(path).exists() else None
        line_breaks = manifest.get("line_breaks", "paragraph")
        if tokens is not None:
            return cls.from_tokens(tokens, language, aliases=aliases, line_breaks=line_breaks)
        if vocab is not None:
            return cls.from_vocab(vocab, language, aliases=aliases, line_breaks=line_breaks)
        return cls(language, counts, aliases=aliases, line_breaks=line_breaks)

    def fingerprint(self) -> str:
        """Hash of what decides the forms, the libraries' versions too (not the vocabulary)."""
        blob = json.dumps(
            {
                "libraries": library_versions(),
                "language": self.language,
                "aliases": self.aliases,
                "user_lexicon": sorted(self.user_lexicon),
                "builtin_lexicon": hashlib.sha256(
                    "\n".join(sorted(_builtin_lexicon()[1])).encode()
                ).hexdigest(),
                "split_article": self.split_article,
                "stemmer": self.stemmer,
                "mode": self.mode,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # --- per word -----------------------------------------------------------
    def alias(self, form: str) -> str:
        return self.aliases.get(form, form)

    def _score(self, word: str) -> float:
        """How well attested ``word`` is as a word on its own (inf = lexicon).

        Counts the word (a variant as its name) with and without the article. A pronoun
        suffix is looked through against the lexicon only (``سيادتها`` -> ``سياده``, the
        ta marbuta written ت before a suffix restored)."""
        word = self.alias(word)
        if word in self.lexicon:
            return _INF
        n = self.counts.get(word, 0)
        if word.startswith(ARTICLE):
            bare = word[2:]
            if bare in self.lexicon:
                return _INF
            n += self.counts.get(self.alias(bare), 0)
        else:
            n += self.counts.get(self.alias(ARTICLE + word), 0)
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                base = word[: -len(suffix)]
                if base in self.lexicon or (base.endswith("ت") and base[:-1] + "ه" in self.lexicon):
                    return _INF
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
        if len(w) < 3 or w in self.keep:
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
                score = self._score(rest)
                need = max(_MIN_COUNT, whole * (_RATIO_KAF if p == "ك" else _RATIO))
                tail = self._split_stage(rest, i + 1, self.counts.get(self.alias(rest), 0))
                if score >= need or len(tail) > 1:
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
            own = self.language not in ("ar", "ru") and self.language in LANGUAGE_STEMMERS
            return self._stemmer(self.language if own else "en").stem(form) or form
        return form

    def lemma(self, form: str) -> str:
        """The dictionary form of a Cyrillic ``norm`` form (pymorphy3's first parse, ё
        folded to е as ``norm`` does); anything else unchanged. Memoised."""
        hit = self._lemma.get(form)
        if hit is None:
            hit = form
            if _CYRILLIC.search(form):
                if self._morph is None:
                    import pymorphy3

                    self._morph = pymorphy3.MorphAnalyzer(lang="ru")
                hit = normalise(self._morph.parse(form)[0].normal_form, "ru") or form
            self._lemma[form] = hit
        return hit

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

                st = SnowballStemmer(LANGUAGE_STEMMERS[lang])
            self._stemmers[lang] = st
        return st

    def parts(self, norm: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Clitic pieces of a token's ``norm`` form (aliases applied to the word and to
        each piece) and how many letters of ``norm`` each piece covers."""
        word = self.alias(norm)
        parts = self.split(word)
        if len(parts) == 1:
            return (parts[0],), (len(norm),)
        letters: list[int] = []
        for k, part in enumerate(parts[:-1]):
            need = len(part)
            if (
                part.startswith(ARTICLE)
                and k > 0
                and parts[k - 1] == "ل"
                and word[sum(letters) : sum(letters) + 1] == "ل"
            ):
                need -= 1  # the alef of ال restored after ل (لل)
            letters.append(need)
        letters.append(len(word) - sum(letters))
        return tuple(self.alias(p) for p in parts), tuple(letters)

    def pieces(self, surface: str, norm: str, level: str = "clitic") -> list[tuple[str, int, int]]:
        """Forms of one token with offsets relative to its verbatim ``surface``."""
        forms, letters = self.parts(norm)
        out: list[tuple[str, int, int]] = []
        pos = 0
        for k, (form, need) in enumerate(zip(forms, letters, strict=True)):
            end = len(surface) if k == len(forms) - 1 else _advance(surface, pos, need)
            out.append((self.stem(form) if level == "stem" else self.lemma(form) if level == "lemma"
                        else form, pos, end))
            pos = end
        return out

    # --- polars side --------------------------------------------------------
    def forms(self, countable: pl.LazyFrame, level: str) -> pl.LazyFrame:
        """``doc sent start end form`` for countable tokens at ``norm``/``clitic``/``stem``.

        Python runs once per distinct ``norm`` form (clitic split), once per distinct
        piece (stem) and once per distinct split token whose surface has letters that
        normalisation deletes (diacritics, tatweel: offsets walk the surface);
        everything else is polars. 1. aliases; 2. the clitic pieces of each token and
        their offsets (:meth:`_with_splits`); 3. one row per piece; 4. stems or lemmas.
        """
        if level not in ("norm", "clitic", "stem", "lemma"):
            raise FormulaeError(f"level {level!r} is not one of norm, clitic, stem, lemma")
        check_level(level, self.language)
        lf = countable
        if self.aliases:
            keys = list(self.aliases)
            lf = lf.with_columns(pl.col("norm").replace(keys, [self.aliases[k] for k in keys]))
        if level == "norm":
            return lf.select("doc", "sent", "start", "end", pl.col("norm").alias("form"))
        lf = lf.select("doc", "sent", "start", "end", "surface", "norm").collect().lazy()
        lf, splits = self._with_splits(lf)
        if not splits:  # no token splits (every language but Arabic): a piece a token, no lists
            out = lf.select("doc", "sent", "start", "end", pl.col("norm").alias("form"))
            return self._stemmed(out, level) if level in ("stem", "lemma") else out
        ends = pl.col("_k").list.eval(pl.element().cum_sum())
        starts = pl.col("_k").list.eval(pl.element().cum_sum() - pl.element())
        width = (pl.col("end") - pl.col("start")).cast(pl.UInt32)
        out = (
            lf.with_columns(
                pl.col("_f").fill_null(pl.concat_list(pl.col("norm"))),
                pl.coalesce(pl.col("_os"), starts, pl.concat_list(pl.lit(0, pl.UInt32))).alias(
                    "_s"
                ),
                pl.coalesce(pl.col("_oe"), ends, pl.concat_list(width)).alias("_e"),
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
        return self._stemmed(out, level) if level in ("stem", "lemma") else out

    def _stemmed(self, pieces: pl.LazyFrame, level: str) -> pl.LazyFrame:
        """``pieces`` with each ``form`` stemmed or lemmatised (``level``): Python once a
        distinct form."""
        out = pieces.collect()
        distinct = out["form"].unique().sort().to_list()
        fn = self.stem if level == "stem" else self.lemma
        stems = [fn(f) for f in distinct]
        return out.lazy().with_columns(pl.col("form").replace(distinct, stems))

    def _with_splits(self, lf: pl.LazyFrame) -> tuple[pl.LazyFrame, int]:
        """``lf`` with the clitic pieces of each token (``_f`` forms, ``_k`` lengths in the
        norm) and, where the surface and norm differ in length, the pieces' offsets in the
        surface (``_os``, ``_oe``); null where the token does not split. Second: how many
        distinct norms split (0: ``lf`` as given, no columns added)."""
        norms = (
            lf.select(pl.col("norm").unique())
            .filter(pl.col("norm").str.contains(SPLITTABLE))
            .collect()["norm"]
            .to_list()
        )
        split_rows = [(n, *self.parts(n)) for n in norms]
        split_rows = [r for r in split_rows if len(r[1]) > 1]
        if not split_rows:
            return lf, 0
        table = _lists(
            {
                "norm": [r[0] for r in split_rows for _ in r[1]],
                "_f": [f for r in split_rows for f in r[1]],
                "_k": [k for r in split_rows for k in r[2]],
            },
            {"norm": pl.String, "_f": pl.String, "_k": pl.UInt32},
            ["norm"],
        )
        lf = lf.join(table.lazy(), on="norm", how="left", maintain_order="left")
        # Split tokens whose surface and norm differ in length: offsets from Python.
        odd = (
            lf.filter(
                pl.col("_f").is_not_null()
                & (pl.col("surface").str.len_chars() != pl.col("norm").str.len_chars())
            )
            .select("surface", "norm")
            .unique()
            .collect()
        )
        odd_rows = [
            (a, b, [(s0, e0) for _, s0, e0 in self.pieces(a, b)])
            for a, b in zip(odd["surface"].to_list(), odd["norm"].to_list(), strict=True)
        ]
        odd_table = _lists(
            {
                "surface": [r[0] for r in odd_rows for _ in r[2]],
                "norm": [r[1] for r in odd_rows for _ in r[2]],
                "_os": [x[0] for r in odd_rows for x in r[2]],
                "_oe": [x[1] for r in odd_rows for x in r[2]],
            },
            {"surface": pl.String, "norm": pl.String, "_os": pl.UInt32, "_oe": pl.UInt32},
            ["surface", "norm"],
        )
        lf = lf.join(odd_table.lazy(), on=["surface", "norm"], how="left", maintain_order="left")
        return lf, len(split_rows)

    def query_forms(self, phrase: str, level: str) -> list[str]:
        """A query phrase as forms at ``level``, processed exactly like the corpus."""
        return self.query_forms_many([phrase], level)[0]

    def query_forms_many(self, phrases: list[str], level: str) -> list[list[str]]:
        """:meth:`query_forms` of each phrase, in one tokenizer pass (a lexicon's words)."""
        frame = pl.DataFrame({"doc": range(len(phrases)), "text": phrases}, schema={"doc": pl.UInt32, "text": pl.String})
        toks = tokens_build(frame, language=self.language, line_breaks=self.line_breaks, mode=self.mode)
        got = dict(tokens_level(toks, level, analyzer=self).group_by("doc").agg("form").collect().iter_rows())
        return [got.get(i, []) for i in range(len(phrases))]


def _lists(columns: dict, schema: dict, keys: list[str]) -> pl.DataFrame:
    """Flat rows (one per piece, in order) -> one row per key with list columns."""
    return pl.DataFrame(columns, schema=schema).group_by(keys, maintain_order=True).agg(pl.col(c) for c in columns if c not in keys)


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
