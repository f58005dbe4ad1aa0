"""Bad input, through the command line: one line naming file:line and the problem,
exit status 2, no traceback; ``--skip-bad`` turns record errors into counted skips;
a failed ingest leaves the previous snapshot intact."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real thing: a separate process (used for a few cases; slower)."""
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], cwd=cwd, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The console entry point in this process: argv in, exit status and output out."""
    from conftest import cli_main

    return cli_main(*args, cwd=cwd)


def fails(proc: subprocess.CompletedProcess, pattern: str) -> str:
    import re

    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == 1, err
    assert err.startswith("formulae: error: ")
    assert re.search(pattern, err), err
    return err


def corpus(tmp_path: Path, name: str, data: bytes, decl: str) -> Path:
    (tmp_path / name).write_bytes(data)
    yml = tmp_path / "c.yml"
    yml.write_text(decl, encoding="utf-8")
    return yml


JSONL = "name: c\nformat: jsonl\npath: {f}\nlanguage: en\nfields: {{id: id, text: text, date: date}}\n"
GOOD = [{"id": f"r{i}", "text": f"statement number {i}", "date": "2024-05-0" + str(i + 1)} for i in range(5)]


def lines(recs) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in recs).encode()


def test_truncated_gzip(tmp_path):
    full = gzip.compress(lines(GOOD * 400), mtime=0)
    yml = corpus(tmp_path, "d.jsonl.gz", full[: len(full) // 2], JSONL.format(f="d.jsonl.gz"))
    fails(run_process("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl\.gz:\d+: truncated gzip file")


def test_invalid_utf8(tmp_path):
    data = lines(GOOD[:2]) + b'{"id": "x", "text": "caf\xe9"}\n' + lines(GOOD[2:])
    yml = corpus(tmp_path, "d.jsonl", data, JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:3: invalid UTF-8 \(byte 0xe9")


def test_invalid_utf8_rawdump(tmp_path):
    yml = corpus(tmp_path, "p.txt", "سطر أول\n".encode() + b"\xff\xfe bad\n",
                 "name: c\nformat: rawdump\npath: p.txt\nlanguage: ar\n")
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"p\.txt:2: invalid UTF-8")


def test_broken_json_line(tmp_path):
    data = lines(GOOD[:3]) + b'{"id": "x", "text": "unterminated\n' + lines(GOOD[3:])
    yml = corpus(tmp_path, "d.jsonl", data, JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:4: broken JSON line")


def test_json_line_not_an_object(tmp_path):
    yml = corpus(tmp_path, "d.jsonl", lines(GOOD[:1]) + b"[1, 2]\n", JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:2: JSON line is a list")


def test_ragged_csv_row(tmp_path):
    data = b'id,text,date\nr1,"one, with comma",2024-01-01\nr2,"two\nlines",2024-01-02\nr3,three\nr4,four,2024-01-04\n'
    yml = corpus(tmp_path, "d.csv", data, "name: c\nformat: csv\npath: d.csv\nlanguage: en\nfields: {id: id, date: date}\n")
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.csv:5: ragged CSV row: 2 fields, the header has 3")


def test_missing_mapped_field(tmp_path):
    yml = corpus(tmp_path, "d.jsonl", lines(GOOD), JSONL.format(f="d.jsonl").replace("text: text", "text: body"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path),
          r"d\.jsonl:1: mapped field 'body' \(fields.text\) is missing from the records")


def test_record_without_text_field(tmp_path):
    data = lines(GOOD[:2]) + b'{"id": "x", "date": "2024-01-01"}\n' + lines(GOOD[2:])
    yml = corpus(tmp_path, "d.jsonl", data, JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:3: record has no 'text' field")


def test_unparseable_date(tmp_path):
    data = lines(GOOD[:4]) + lines([{"id": "x", "text": "t", "date": "28/01/2025"}])
    yml = corpus(tmp_path, "d.jsonl", data, JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:5: unparseable date '28/01/2025'")


def test_duplicate_id(tmp_path):
    data = lines(GOOD) + lines([{"id": "r1", "text": "another text"}])
    yml = corpus(tmp_path, "d.jsonl", data, JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:6: duplicate id 'r1' \(first used at d\.jsonl:2\)")


@pytest.mark.parametrize(
    ("decl", "pattern"),
    [
        ("name: c\nformat: xml\npath: d.jsonl\nlanguage: en\n", r"c\.yml:2: key 'format': 'xml' is not a known format"),
        ("format: jsonl\npath: d.jsonl\nlanguage: en\n", r"c\.yml: missing required key 'name'"),
        ("name: c\nformat: jsonl\npath: nothere.jsonl\nlanguage: en\n", r"c\.yml:3: key 'path': no such file"),
        ("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: english\n", r"c\.yml:4: key 'language': 'english' is not an ISO 639-1"),
        ("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: en\nfeilds: {}\n", r"c\.yml:5: key 'feilds': unknown key"),
        ("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: en\nline_breaks: soft\n", r"c\.yml:5: key 'line_breaks'"),
        ("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: en\ndate: {format: dd.mm}\n", r"c\.yml:5: key 'date.format': 'dd.mm'"),
        ("name: Bad Name\nformat: jsonl\npath: d.jsonl\nlanguage: en\n", r"c\.yml:1: key 'name'"),
        ("name: c\nformat: [jsonl\n", r"c\.yml:\d+: declaration is not valid YAML"),
        ("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: en\nfields:\n  id: id\n  txt: body\n", r"c\.yml:7: key 'fields.txt': unknown field role"),
        ("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: en\ndate:\n  format: auto\n  year: last\n", r"c\.yml:7: key 'date.year': 'last' is not a year"),
        ("- just\n- a list\n", r"c\.yml: declaration must be a YAML mapping"),
    ],
)
def test_bad_declaration(tmp_path, decl, pattern):
    yml = corpus(tmp_path, "d.jsonl", lines(GOOD), decl)
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), pattern)


def test_missing_declaration(tmp_path):
    fails(run("ingest", "nope.yml", cwd=tmp_path), r"nope\.yml: no such corpus declaration")


def test_skip_bad_counts_skips(tmp_path):
    data = (lines(GOOD[:2]) + b'{"id": "x", "text": \n' + b'{"id": "y", "text": "caf\xe9"}\n'
            + lines(GOOD[2:]) + lines([{"id": "z", "text": "t", "date": "someday"}]))
    yml = corpus(tmp_path, "d.jsonl", data, JSONL.format(f="d.jsonl"))
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:3: broken JSON line")
    ok = run_process("ingest", str(yml), "--store", "s", "--skip-bad", "--format", "json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    log = json.loads(ok.stdout)[0]
    assert log["records_in"] == 8 and log["kept"] == 5
    assert log["dropped"] == {"unparseable": 3}
    assert [(s["line"], s["detail"].split(":")[0].split(" (")[0]) for s in log["skipped"]] == [
        (3, "broken JSON line"), (4, "invalid UTF-8"), (8, "unparseable date 'someday'")]


def test_skip_bad_csv(tmp_path):
    data = b"id,text\nr1,one\nr2,two,extra\nr3,three\n"
    yml = corpus(tmp_path, "d.csv", data, "name: c\nformat: csv\npath: d.csv\nlanguage: en\nfields: {id: id}\n")
    ok = run("ingest", str(yml), "--store", "s", "--skip-bad", "--format", "json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    log = json.loads(ok.stdout)[0]
    assert (log["records_in"], log["kept"], log["dropped"]) == (3, 2, {"unparseable": 1})
    assert log["skipped"][0]["line"] == 3


def test_failed_ingest_leaves_snapshot_intact(tmp_path):
    yml = corpus(tmp_path, "d.jsonl", lines(GOOD), JSONL.format(f="d.jsonl"))
    assert run("ingest", str(yml), "--store", "s", cwd=tmp_path).returncode == 0
    snap = tmp_path / "s" / "c" / "snapshot"
    before = {p.name: p.read_bytes() for p in snap.iterdir()}
    (tmp_path / "d.jsonl").write_bytes(lines(GOOD) + b"{broken\n")
    fails(run("ingest", str(yml), "--store", "s", cwd=tmp_path), r"d\.jsonl:6: broken JSON line")
    assert {p.name: p.read_bytes() for p in snap.iterdir()} == before
    info = run("corpus", "info", "c", "--store", "s", "--format", "json", cwd=tmp_path)
    assert json.loads(info.stdout)["statements"] == 5


def test_info_unknown_corpus(tmp_path):
    fails(run("corpus", "info", "nope", "--store", "s", cwd=tmp_path), r"unknown corpus 'nope' in store s")


def test_ingest_needs_declarations_or_all(tmp_path):
    fails(run("ingest", cwd=tmp_path), r"give declaration files or --all")
    fails(run("ingest", "--all", "--corpus-dir", "empty", cwd=tmp_path), r"no corpus declarations")
