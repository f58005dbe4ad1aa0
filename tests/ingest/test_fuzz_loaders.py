"""Every loader fuzzed (issue 11, item 11): random bytes and random structures in the raw
dump, Telegram, JSONL, CSV and folder readers never end in a traceback: an ingest either
succeeds with records in = kept + dropped, or stops with a one-line FormulaeError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis.errors import FormulaeError
from analysis.ingest.snapshot import corpus_ingest

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

DECLS = {
    "rawdump": "format: rawdump\npath: in.txt\nlanguage: ar\ndate: {year: 2025}\n",
    "telegram": "format: telegram\npath: result.json\nlanguage: ar\n",
    "jsonl": "format: jsonl\npath: in.jsonl\nlanguage: en\nfields: {id: id, text: text, date: date, source: source}\n",
    "csv": "format: csv\npath: in.csv\nlanguage: en\nfields: {id: id, text: text, date: date}\n",
    "folder": "format: folder\npath: docs\nlanguage: en\n",
}
INPUT = {"rawdump": "in.txt", "telegram": "result.json", "jsonl": "in.jsonl", "csv": "in.csv"}

# pieces that reach the readers' special cases: dates, emoji leads, hashtags, front matter, quotes
PIECES = ["🗓 في 28 يناير، ", "📞 12 فبراير 2025 ", "#وسم", "---", "date: 2025-01-02", "id: x", "\n", "\n\n",
          '"', ",", "2025-13-45", "1946", "يناير", "text", "\u202e", "\ufeff", "\r\n", "\t", "{", "}", "[", "]"]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=12).map("".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True), texts)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(texts, inner, max_size=3)), max_leaves=6)
record = st.dictionaries(st.sampled_from(["id", "text", "date", "source", "title", "type", "from", "x"]), values,
                         max_size=6)


def attempt(tmp: Path, fmt: str, files: dict[str, bytes]) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, data in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(data)
    (tmp / "docs").mkdir(exist_ok=True)
    (tmp / "c.yml").write_text(f"name: fz\n{DECLS[fmt]}", encoding="utf-8")
    for skip_bad in (False, True):
        try:
            res = corpus_ingest(tmp / "c.yml", store=tmp / "S", skip_bad=skip_bad, allow_empty=True)
        except FormulaeError as exc:
            assert "\n" not in str(exc).strip(), str(exc)  # one line
            continue
        log = res.log
        assert log["records_in"] == log["kept"] + sum(log["dropped"].values()), log


def structured(fmt: str, recs: list[dict], text: str) -> dict[str, bytes]:
    if fmt == "jsonl":
        lines = [json.dumps(r, ensure_ascii=False) for r in recs] + ([text] if text else [])
        return {"in.jsonl": "\n".join(lines).encode("utf-8", "surrogatepass")}
    if fmt == "telegram":
        return {"result.json": json.dumps({"name": text, "messages": recs}, ensure_ascii=False, indent=1)
                .encode("utf-8", "surrogatepass")}
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["id", "text", "date"])
        for r in recs:
            w.writerow([str(r.get(k, "")) for k in ("id", "text", "date")])
        return {"in.csv": (buf.getvalue() + text).encode("utf-8", "surrogatepass")}
    if fmt == "folder":
        out = {}
        for i, r in enumerate(recs):
            front = "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in r.items() if k != "text")
            out[f"docs/{i}.md"] = (f"---\n{front}---\n{r.get('text', '')}" if i % 2 == 0
                                   else f"{text}\n{front}").encode("utf-8", "surrogatepass")
        return out
    return {"in.txt": "\n".join([text, *(str(r.get("text", "")) for r in recs)]).encode("utf-8", "surrogatepass")}


@FUZZ
@given(fmt=st.sampled_from(sorted(DECLS)), data=st.binary(max_size=400))
def test_random_bytes_never_trace(tmp_path, fmt, data):
    files = {"docs/a.md": data, "docs/b.txt": data[::-1]} if fmt == "folder" else {INPUT[fmt]: data}
    attempt(tmp_path / "fz", fmt, files)


@FUZZ
@given(fmt=st.sampled_from(sorted(DECLS)), recs=st.lists(record, max_size=5), text=texts)
@example(fmt="jsonl", recs=[{"id": None, "text": None}, {"date": []}], text="")  # was InvalidOperationError
@example(fmt="jsonl", recs=[{"id": "a", "text": "x", "date": {"y": 1}}], text="")
@example(fmt="folder", recs=[{"id": None, "text": None, "date": {"\x7f": None}}], text="")  # was a 2-line error
def test_random_structures_never_trace(tmp_path, fmt, recs, text):
    attempt(tmp_path / "fz", fmt, structured(fmt, recs, text))


@FUZZ
@given(recs=st.lists(st.fixed_dictionaries({"id": st.one_of(st.none(), st.text(max_size=3)),
                                             "text": texts, "date": st.one_of(st.none(), texts)}), max_size=6))
def test_jsonl_records_with_text_are_accounted(tmp_path, recs):
    """Well-formed records: nothing can stop the ingest but an id clash or a bad date."""
    attempt(tmp_path / "fz", "jsonl", structured("jsonl", recs, ""))
