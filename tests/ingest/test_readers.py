"""Readers for each input format, date rules and raw-dump splitting, on small inline inputs."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import FormulaeError
from analysis.ingest.rawdump import find_date
from analysis.ingest.snapshot import corpus_ingest, corpus_load, corpus_log


def ingest(tmp_path: Path, decl: str, files: dict[str, bytes | str], skip_bad: bool = False):
    for name, data in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    (tmp_path / "c.yml").write_text(decl, encoding="utf-8")
    res = corpus_ingest(tmp_path / "c.yml", store=tmp_path / "store", skip_bad=skip_bad)
    return res, corpus_load(res.corpus, tmp_path / "store").collect()


# --- telegram ---------------------------------------------------------------------

TELEGRAM = {
    "name": "MID Russia AR",
    "type": "public_channel",
    "id": 1,
    "messages": [
        {"id": 10, "type": "service", "date": "2025-01-01T09:00:00", "action": "create_channel"},
        {"id": 11, "type": "message", "date": "2025-01-28T10:15:00", "from": "MID Russia AR",
         "text": ["🗓 في 28 يناير زار الوفد دمشق.\n", {"type": "hashtag", "text": "#روسيا_سوريا"}],
         "text_entities": [{"type": "plain", "text": "🗓 في 28 يناير زار الوفد دمشق.\n"},
                           {"type": "hashtag", "text": "#روسيا_سوريا"}]},
        {"id": 12, "type": "message", "date": "2025-02-12T18:00:00", "text": "نص بسيط #سوريا"},
        {"id": 13, "type": "message", "date": "2025-02-13T08:00:00", "text": "", "photo": "photos/1.jpg"},
        {"id": 14, "type": "message", "date": "2025-02-14T08:00:00",
         "text": ["See ", {"type": "link", "text": "https://mid.ru"}, " and ", {"type": "bold", "text": "this"}]},
    ],
}


def test_telegram_export(tmp_path):
    decl = "name: tg\nformat: telegram\npath: export/result.json\nlanguage: ar\n"
    res, df = ingest(tmp_path, decl, {"export/result.json": json.dumps(TELEGRAM, ensure_ascii=False, indent=1)})
    assert res.log["records_in"] == 5
    assert res.log["dropped"] == {"empty": 1, "not_a_message": 1}
    assert df["id"].to_list() == ["11", "12", "14"]
    assert df["text"][0] == "🗓 في 28 يناير زار الوفد دمشق.\n#روسيا_سوريا"
    assert df["hashtags"].to_list() == [["روسيا_سوريا"], ["سوريا"], []]
    assert df["text"][2] == "See https://mid.ru and this"
    assert df["date"].to_list() == [dt.date(2025, 1, 28), dt.date(2025, 2, 12), dt.date(2025, 2, 14)]
    assert df["date_precision"].unique().to_list() == ["day"]
    assert df["source"].to_list() == ["MID Russia AR"] * 3
    assert df["lead_emoji"][0].to_list() == ["🗓"]
    assert json.loads(df["meta"][0])["date"] == "2025-01-28T10:15:00"


def test_telegram_broken_json(tmp_path):
    with pytest.raises(FormulaeError, match=r"result\.json:3: broken JSON"):
        ingest(tmp_path, "name: tg\nformat: telegram\npath: result.json\nlanguage: ar\n",
               {"result.json": '{\n "messages": [\n  {"id": 1,, }\n ]\n}\n'})


def test_telegram_not_an_export(tmp_path):
    with pytest.raises(FormulaeError, match="not a Telegram export"):
        ingest(tmp_path, "name: tg\nformat: telegram\npath: result.json\nlanguage: ar\n", {"result.json": "[]"})


# --- csv ----------------------------------------------------------------------------


def test_csv_mapping_gzip_and_meta(tmp_path):
    data = ("doc_id;body;when;outlet;headline;section\n"
            "a1;\"First; with separator\";2024-03-05;Okaz;H1;politics\n"
            "a2;\"Two\nlines\";2024-03;Okaz;;economy\n"
            "a3;First;   with separator;2024;Sabq;H3;x\n")
    decl = ("name: cs\nformat: csv\npath: d.csv.gz\nlanguage: ar\nseparator: ';'\n"
            "fields: {id: doc_id, text: body, date: when, source: outlet, title: headline}\n")
    with pytest.raises(FormulaeError, match=r"d\.csv\.gz:5: ragged CSV row: 7 fields"):
        ingest(tmp_path, decl, {"d.csv.gz": gzip.compress(data.encode(), mtime=0)})
    data = data.replace("First;   with separator", "First   with separator")
    res, df = ingest(tmp_path, decl, {"d.csv.gz": gzip.compress(data.encode(), mtime=0)})
    assert df["id"].to_list() == ["a3", "a2", "a1"]  # snapshot order: by date (year 2024-01-01 first)
    by_id = {r["id"]: r for r in df.to_dicts()}
    assert by_id["a1"]["date"] == dt.date(2024, 3, 5) and by_id["a1"]["date_precision"] == "day"
    assert by_id["a2"]["date"] == dt.date(2024, 3, 1) and by_id["a2"]["date_precision"] == "month"
    assert by_id["a3"]["date"] == dt.date(2024, 1, 1) and by_id["a3"]["date_precision"] == "year"
    assert by_id["a2"]["text"] == "Two\nlines"
    assert by_id["a1"]["title"] == "H1" and by_id["a2"]["title"] == ""
    assert json.loads(by_id["a1"]["meta"]) == {"section": "politics", "when": "2024-03-05"}
    assert res.log["records_in"] == 3


def test_csv_extra_list_and_default_source(tmp_path):
    data = "text,a,b\nhello,1,2\n"
    decl = "name: cs\nformat: csv\npath: d.csv\nlanguage: en\nsource: ministry\nfields: {extra: [b]}\n"
    _, df = ingest(tmp_path, decl, {"d.csv": data})
    assert df["source"].to_list() == ["ministry"]
    assert df["meta"].to_list() == ['{"b":"2"}']
    assert df["id"].to_list() == ["cs:ministry:1"]
    assert df["date"].null_count() == 1 and df["date_precision"].to_list() == ["none"]


# --- folder -----------------------------------------------------------------------


def test_folder_with_front_matter(tmp_path):
    files = {
        "docs/2024/a.md": "---\ntitle: Statement A\ndate: 2024-05-01\nsource: MFA\ntags: [x, y]\n---\n# A\n\nBody of A.\n",
        "docs/2024/b.txt": "Plain text, no front matter.\n",
        "docs/notes.csv": "ignored",
        "docs/c.md": "---\nid: custom-c\ndate: 2023\n---\nC body",
    }
    res, df = ingest(tmp_path, "name: fo\nformat: folder\npath: docs\nlanguage: en\n", files)
    assert res.log["records_in"] == 3
    by_id = {r["id"]: r for r in df.to_dicts()}
    assert set(by_id) == {"2024/a", "2024/b", "custom-c"}
    a = by_id["2024/a"]
    assert a["text"] == "# A\n\nBody of A.\n" and a["title"] == "Statement A" and a["source"] == "MFA"
    assert a["date"] == dt.date(2024, 5, 1)
    assert json.loads(a["meta"])["tags"] == '["x", "y"]'
    assert by_id["custom-c"]["date_precision"] == "year"
    assert by_id["2024/b"]["date"] is None and by_id["2024/b"]["source"] == "fo"


def test_folder_bad_front_matter(tmp_path):
    with pytest.raises(FormulaeError, match=r"a\.md:\d+: front matter is not valid YAML"):
        ingest(tmp_path, "name: fo\nformat: folder\npath: docs\nlanguage: en\n",
               {"docs/a.md": "---\ntitle: [unclosed\n---\nbody\n"})


# --- jsonl details ------------------------------------------------------------------


def test_jsonl_blank_lines_and_exact_dropped_lines(tmp_path):
    recs = [{"text": "a"}, {"text": "b"}, {"text": " a "}, {"text": ""}]
    data = "\n".join(json.dumps(r) for r in recs[:2]) + "\n\n  \n" + "\n".join(json.dumps(r) for r in recs[2:]) + "\n"
    res, df = ingest(tmp_path, "name: j\nformat: jsonl\npath: d.jsonl\nlanguage: en\n", {"d.jsonl": data})
    assert df["text"].to_list() == ["a", "b"]
    dropped = pl.read_parquet(tmp_path / "store" / "j" / "snapshot" / "dropped.parquet")
    assert dropped.select("line", "reason", "detail").rows() == [(5, "duplicate", "same text as j:j:1"), (6, "empty", "no text")]


def test_jsonl_nested_and_typed_fields_go_to_meta(tmp_path):
    data = json.dumps({"id": 7, "text": "x", "info": {"k": [1, 2]}, "n": None}) + "\n"
    _, df = ingest(tmp_path, "name: j\nformat: jsonl\npath: d.jsonl\nlanguage: en\n", {"d.jsonl": data})
    assert df["id"].to_list() == ["7"]
    assert json.loads(df["meta"][0]) == {"info": {"k": [1, 2]}, "n": None}


@pytest.mark.parametrize(
    ("date_rules", "value", "expect", "precision"),
    [
        ("{}", "2015-07-21 02:51:32", dt.date(2015, 7, 21), "day"),
        ("{}", "2015-07-21T02:51:32Z", dt.date(2015, 7, 21), "day"),
        ("{}", "1999-12", dt.date(1999, 12, 1), "month"),
        ("{format: year}", 1946, dt.date(1946, 1, 1), "year"),
        ("{format: '%d/%m/%Y'}", "28/01/2025", dt.date(2025, 1, 28), "day"),
        ("{format: '%Y-%m-%d', precision: month}", "2025-01-28", dt.date(2025, 1, 1), "month"),
        ("{precision: year}", "2025-05", dt.date(2025, 1, 1), "year"),
        ("{precision: day}", "2025-05", dt.date(2025, 5, 1), "month"),
        ("{}", None, None, "none"),
        ("{}", "", None, "none"),
    ],
)
def test_date_rules(tmp_path, date_rules, value, expect, precision):
    data = json.dumps({"text": "x", "d": value}) + "\n"
    decl = f"name: j\nformat: jsonl\npath: d.jsonl\nlanguage: en\nfields: {{date: d}}\ndate: {date_rules}\n"
    res, df = ingest(tmp_path, decl, {"d.jsonl": data})
    assert df["date"].to_list() == [expect]
    assert df["date_precision"].to_list() == [precision]
    assert res.log["undated"] == (1 if expect is None else 0)


# --- raw dumps --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "expect"),
    [
        ("🗓 في 28 يناير، زار الوفد", 2025, dt.date(2025, 1, 28)),
        ("📞 في ١٢ فبراير جرت محادثة", 2025, dt.date(2025, 2, 12)),
        ("في 3 كانون الثاني 2024 استقبل", 2025, dt.date(2024, 1, 3)),
        ("في ٥ تشرين الأول", 2023, dt.date(2023, 10, 5)),
        ("يوم 9 آب", 2020, dt.date(2020, 8, 9)),
        ("في 5 ابريل", 2021, dt.date(2021, 4, 5)),
        ("في 14 شباط", 2022, dt.date(2022, 2, 14)),
        ("le 7 جويلية", 2019, dt.date(2019, 7, 7)),
        ("28 января 2025 года", None, dt.date(2025, 1, 28)),
        ("On January 28, 2025 the", None, dt.date(2025, 1, 28)),
        ("on 3 March", 2024, dt.date(2024, 3, 3)),
        ("في الباب 12 من الاتفاق", 2025, None),
        ("عدد 300 مايو", 2025, None),
    ],
)
def test_find_date(text, year, expect):
    assert find_date(text, year)[0] == expect


def test_find_date_without_year_is_reported(tmp_path):
    with pytest.raises(FormulaeError, match=r"p\.txt:1: date '28 يناير' has no year: set date.year"):
        ingest(tmp_path, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\n",
               {"p.txt": "🗓 في 28 يناير، نص\n#وسم\n"})


def test_rawdump_run_together_paste_and_undated_post(tmp_path):
    dump = ("📞 في 12 فبراير، جرت محادثة.\nالفقرة الثانية.\nالفقرة الثالثة.\n"
            "الفقرة الثانية.\nالفقرة الثالثة.\n#وسم\n"
            "منشور بلا تاريخ.\n#وسم_آخر #ثاني\n")
    res, df = ingest(tmp_path, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\nsource: mfa\ndate: {year: 2025}\n",
                     {"p.txt": dump})
    assert res.log["records_in"] == 3 and res.log["dropped"] == {"duplicate_paste": 1}
    assert df["text"].to_list() == ["📞 في 12 فبراير، جرت محادثة.\nالفقرة الثانية.\nالفقرة الثالثة.",
                                    "منشور بلا تاريخ.\n#وسم_آخر #ثاني"]
    assert df["date"].to_list() == [dt.date(2025, 2, 12), None]
    assert df["hashtags"].to_list() == [[], ["وسم_آخر", "ثاني"]]
    assert corpus_log("r", tmp_path / "store")["undated"] == 1


@settings(max_examples=30, deadline=None)
@given(
    posts=st.lists(
        st.lists(st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي ", min_size=3, max_size=30)
                 .map(str.strip).filter(lambda s: len(s) >= 3), min_size=1, max_size=4, unique=True),
        min_size=1, max_size=4),
    repeat=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_rawdump_pastes_property(tmp_path_factory, posts, repeat):
    """Oracle: each post (with a closing hashtag line) pasted once, optionally pasted
    again without its first line; distinct posts with disjoint paragraphs stay, pastes go."""
    tmp = tmp_path_factory.mktemp("rd")
    seen: set[str] = set()
    uniq = []
    for p in posts:
        if not set(p) & seen and len(p) > 1:
            uniq.append(p)
            seen |= set(p)
    lines, n_pastes = [], 0
    for i, p in enumerate(uniq):
        lines += [*p, "#وسم"]
        if repeat[i]:
            lines += [*p[1:], "#وسم"]
            n_pastes += 1
    if not uniq:
        return
    res, df = ingest(tmp, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\n", {"p.txt": "\n".join(lines)})
    assert df.height == len(uniq)
    assert res.log["dropped"] == ({"duplicate_paste": n_pastes} if n_pastes else {})
    assert sorted(df["text"]) == sorted("\n".join([*p, "#وسم"]) for p in uniq)


def test_rawdump_separator_regex(tmp_path):
    dump = "أول منشور.\nفقرة ثانية.\n\nمنشور ثان.\n\n\nمنشور ثالث.\n"
    res, df = ingest(tmp_path, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\nseparator: '^\\s*$'\n",
                     {"p.txt": dump})
    assert df["text"].to_list() == ["أول منشور.\nفقرة ثانية.", "منشور ثان.", "منشور ثالث."]
    assert res.log["records_in"] == 3 and df["date"].null_count() == 3
    with pytest.raises(FormulaeError, match=r"c\.yml:5: key 'separator': '\(' is not a valid regular expression"):
        ingest(tmp_path, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\nseparator: '('\n", {"p.txt": dump})


@settings(max_examples=200, deadline=None)
@given(day=st.integers(1, 28), month=st.integers(1, 12), year=st.integers(1990, 2030),
       variant=st.integers(0, 5), indic=st.booleans(), lead=st.sampled_from(["🗓 في ", "📞 في ", "بتاريخ ", ""]),
       with_year=st.booleans())
def test_find_date_property(day, month, year, variant, indic, lead, with_year):
    """Oracle: every Arabic month name variant, Western or Arabic-Indic digits, with or without a year."""
    from analysis.ingest.rawdump import _AR_MONTHS

    names = _AR_MONTHS[month]
    name = names[variant % len(names)]
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩") if indic else str.maketrans("", "")
    text = f"{lead}{str(day).translate(digits)} {name}" + (f" {str(year).translate(digits)}" if with_year else "") + "، جرت محادثة"
    found, matched = find_date(text, 2025)
    assert found == dt.date(year if with_year else 2025, month, day)
    assert matched in text


def test_rawdump_emoji_paragraph_with_a_date_inside_is_not_a_new_post(tmp_path):
    dump = ("🗓 في 28 يناير، زار الوفد دمشق.\n"
            "☝️ وأشار الجانب الروسي إلى الاتفاق الموقع في 12 فبراير الماضي.\n"
            "#وسم\n"
            "📞 بتاريخ ٣ مارس جرت محادثة.\n#وسم\n")
    res, df = ingest(tmp_path, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\ndate: {year: 2025}\n",
                     {"p.txt": dump})
    assert res.log["records_in"] == 2
    assert df["date"].to_list() == [dt.date(2025, 1, 28), dt.date(2025, 3, 3)]
    assert df["lead_emoji"].to_list() == [["🗓", "☝️"], ["📞"]]


def test_telegram_record_errors_and_skip_bad(tmp_path):
    export = {"name": "ch", "messages": [
        {"id": 1, "type": "message", "date": "2025-01-01T10:00:00", "text": "one"},
        {"id": 2, "type": "message", "date": "yesterday", "text": "two"},
        {"id": 3, "type": "message", "date": "2025-01-03T10:00:00"},
    ]}
    files = {"result.json": json.dumps(export, indent=1)}
    decl = "name: tg\nformat: telegram\npath: result.json\nlanguage: en\n"
    with pytest.raises(FormulaeError, match=r"result\.json:10: unparseable date 'yesterday'"):
        ingest(tmp_path, decl, files)
    res, df = ingest(tmp_path, decl, files, skip_bad=True)
    assert df["id"].to_list() == ["1"]
    assert res.log["dropped"] == {"unparseable": 2}
    assert [(s["line"], s["detail"]) for s in res.log["skipped"]] == [
        (10, "unparseable date 'yesterday' (message 2, id 2)"), (16, "message has no 'text' field (message 3, id 3)")]


def test_folder_record_error_names_its_file(tmp_path):
    files = {"docs/a.md": "---\ndate: 2024-01-01\n---\nA\n", "docs/b.md": "---\ndate: soon\n---\nB\n"}
    with pytest.raises(FormulaeError, match=r"docs/b\.md:\d+: unparseable date 'soon'"):
        ingest(tmp_path, "name: fo\nformat: folder\npath: docs\nlanguage: en\n", files)


def test_rawdump_flags_and_keycaps_lead_posts(tmp_path):
    """A flag pair or a keycap leading a dated line starts a post, and both are lead emoji:
    one definition with the tokeniser (the splitter and the ingest used to disagree)."""
    dump = ("🇷🇺🇸🇾 في 5 مارس، التقى الوزير نظيره السوري.\nوأكد الجانبان على التعاون.\n"
            "1️⃣ في 7 مارس جرت محادثة هاتفية.\n👨‍👩‍👧 العائلات السورية.\n")
    res, df = ingest(tmp_path, "name: r\nformat: rawdump\npath: p.txt\nlanguage: ar\ndate: {year: 2025}\n",
                     {"p.txt": dump})
    assert res.log["records_in"] == 2
    assert df["date"].to_list() == [dt.date(2025, 3, 5), dt.date(2025, 3, 7)]
    assert df["lead_emoji"].to_list() == [["🇷🇺🇸🇾"], ["1️⃣", "👨‍👩‍👧"]]
