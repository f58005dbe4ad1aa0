"""Russian lemmas (pymorphy3) beside Snowball stems, measured on a Russian text written
for it: inflected formulae, and look-alikes that are not the formulae."""

from __future__ import annotations

import gzip
import json

import pytest

from analysis.errors import FormulaeError
from analysis.phrases.build import index_build
from analysis.phrases.query import query_phrase
from analysis.text.analyzer import Analyzer
from analysis.vocab import language_levels

# (sentence, formulae it holds)
TEXT = [
    ("Россия уважает территориальную целостность Сирии.", {"ti"}),
    ("Мы выступаем за сохранение территориальной целостности Украины.", {"ti"}),
    ("Стороны подчеркнули приверженность суверенитету и территориальной целостностью государств.", {"ti", "sov"}),
    ("Территориальная целостность страны не подлежит обсуждению.", {"ti"}),
    ("Речь идёт о территориальных целостностях бывших республик.", {"ti"}),
    ("Мы говорили о территориальных водах и целостном подходе к безопасности.", set()),
    ("Нужен целостный территориальный план развития.", set()),
    ("Обсуждались вопросы суверенитета и независимости.", {"sov"}),
    ("Суверенитеты малых государств должны уважаться.", {"sov"}),
    ("Это суверенное решение народа.", set()),
    ("Отношения строятся на взаимном уважении.", {"mr"}),
    ("Взаимное уважение — основа диалога.", {"mr"}),
    ("Мы призываем ко взаимному уважению интересов.", {"mr"}),
    ("Взаимные уважительные отношения сохраняются.", set()),
    ("Принцип невмешательства во внутренние дела закреплён в Уставе.", {"ni"}),
    ("Стороны выступили против вмешательства во внутренние дела.", set()),
    ("Двустороннее сотрудничество развивается, двусторонних сотрудничеств стало больше.", {"bc"}),
    ("Мирное сосуществование и мирного сосуществования принципы.", {"pc"}),
    ("Мирные переговоры и сосуществующие системы.", set()),
    ("Общий рынок ЕАЭС работает.", {"cm"}),
    ("Мы обсудили создание общего рынка газа.", {"cm"}),
    ("На общем рынке действуют единые правила.", {"cm"}),
    ("Государства формируют общие рынки услуг.", {"cm"}),
]
FORMULAE = {
    "ti": "территориальная целостность",
    "sov": "суверенитет",
    "mr": "взаимное уважение",
    "ni": "невмешательство во внутренние дела",
    "bc": "двустороннее сотрудничество",
    "pc": "мирное сосуществование",
    "cm": "общий рынок",
}



def _found(level: str) -> tuple[int, int, int, list[str]]:
    """(found, wrong, missed, missed sentences) of every formula over the text, at ``level``,
    by the Analyzer's own forms of each sentence (one sentence each)."""
    analyzer = Analyzer("ru", {})
    forms = [analyzer.query_forms(s, level) for s, _ in TEXT]
    tp = fp = fn = 0
    missed = []
    for key, phrase in FORMULAE.items():
        q = analyzer.query_forms(phrase, level)
        got = {i for i, f in enumerate(forms) if any(f[k:k + len(q)] == q for k in range(len(f) - len(q) + 1))}
        want = {i for i, (_, keys) in enumerate(TEXT) if key in keys}
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        missed += [TEXT[i][0] for i in sorted(want - got)]
    return tp, fp, fn, missed


def test_lemmas_beat_stems_on_inflected_formulae() -> None:
    stem = _found("stem")
    lemma = _found("lemma")
    assert lemma == (18, 0, 0, [])
    # Snowball cuts рынок / рынка / рынке / рынки to рынок / рынк: the fleeting vowel
    assert stem[:3] == (15, 0, 3)
    assert all("рынк" in s for s in stem[3])
    # территориальная целостность: every case, both ways
    analyzer = Analyzer("ru", {})
    assert analyzer.query_forms("территориальной целостностью", "lemma") == ["территориальный", "целостность"]
    assert analyzer.query_forms("Территориальная целостность", "lemma") == ["территориальный", "целостность"]


def test_lemma_is_a_russian_level() -> None:
    assert language_levels("ru") == ("exact", "norm", "stem", "lemma")
    assert "lemma" not in language_levels("en")
    with pytest.raises(FormulaeError, match="'lemma' is not available for language 'en'; it has exact, norm, stem"):
        Analyzer("en", {}).query_forms("markets", "lemma")


def test_query_at_lemma(tmp_path, store) -> None:
    from analysis.ingest.snapshot import corpus_ingest

    rows = [{"id": f"r{i}", "date": "2024-01-01", "text": s} for i, (s, _) in enumerate(TEXT)]
    with gzip.open(tmp_path / "ru.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    (tmp_path / "ru.yml").write_text("name: lemmas-ru\nformat: jsonl\npath: ru.jsonl.gz\nlanguage: ru\n"
                                     "fields: {id: id, text: text, date: date}\n", encoding="utf-8")
    corpus = corpus_ingest(tmp_path / "ru.yml", store=store).corpus
    counts = {}
    for level in ("norm", "stem", "lemma"):
        index_build(corpus, level, store)
        counts[level] = sum(query_phrase(corpus, "общий рынок", level=level, by=None, store=store).columns["statements"])
    assert counts == {"norm": 1, "stem": 1, "lemma": 4}
