"""The terminal's tables: ``table_text`` writes what rich's whole table writes, without
laying out every row with rich (``analysis.cli.output``)."""

from __future__ import annotations

import io
import json

import pytest
from conftest import cli_main
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from analysis.cli import output
from analysis.cli.output import table_text
from analysis.phrases.build import index_build
from analysis.text.grammar import display_inert


def rich_whole(console: Console, columns: dict[str, list], title: str | None, numeric: set[str] | None) -> str:
    """The oracle: the table as the CLI printed it before table_text, every row laid out
    by rich."""
    table = Table(title=None if title is None else Text(display_inert(title)))
    for name, values in columns.items():
        right = (name in numeric if numeric is not None else
                 all(isinstance(v, (int, float)) for v in values if v is not None) and bool(values))
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in zip(*columns.values(), strict=True):
        table.add_row(*(Text(display_inert("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))))
                        for v in row))
    with console.capture() as cap:
        console.print(table)
    return cap.get()


def console(width: int, terminal: bool, encoding: str = "utf-8") -> Console:
    class File(io.StringIO):
        pass

    File.encoding = encoding  # an ASCII stream: rich draws the borders in ASCII
    return Console(width=width, file=File(), force_terminal=terminal, color_system="truecolor" if terminal else None,
                   legacy_windows=False, _environ={})


# letters, digits, spaces; wide (CJK, emoji), zero-width (combining marks, ZWNJ), Arabic,
# a tab, line breaks, a no-break space, a bidi control (shown inert), a presentation form
_CHARS = "ab yz 09-,\u4e2d\u6587\U0001f600\u0628\u0627\u064e\u0301\u200c\t\n\r\u00a0\u202e\ufdfa\u00e9"
_CELL = st.one_of(st.none(), st.integers(-10**9, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(alphabet=_CHARS, max_size=24))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_table_text_equals_rich_whole_table(data):
    """Any table, at a pipe's width or a terminal's (folded), in colour or ASCII: the same
    text as rich's; every row goes the fast way or rich's (fast_rows=0)."""
    n_cols = data.draw(st.integers(1, 6))
    n_rows = data.draw(st.integers(0, 12))
    columns = {}
    for k in range(n_cols):
        name = data.draw(st.sampled_from(["period", "statements_total", "source", "x y", "\u4e2d\u6587", ""])) + str(k)
        if data.draw(st.booleans()):
            columns[name] = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 10**9)),
                                               min_size=n_rows, max_size=n_rows))
        else:
            columns[name] = data.draw(st.lists(_CELL, min_size=n_rows, max_size=n_rows))
    title = data.draw(st.one_of(st.none(), st.text(alphabet=_CHARS, max_size=60)))
    numeric = data.draw(st.one_of(st.none(), st.just(set(list(columns)[:1]))))
    width = data.draw(st.sampled_from([100_000, 200, 80, 40, 20, 12]))
    terminal = data.draw(st.booleans())
    encoding = data.draw(st.sampled_from(["utf-8", "ascii"]))
    want = rich_whole(console(width, terminal, encoding), columns, title, numeric)
    assert table_text(console(width, terminal, encoding), columns, title, numeric, fast_rows=0) == want


def test_small_tables_are_rich_whole():
    columns = {"a": [1, 2], "b": ["x", None]}
    assert table_text(console(80, True), columns, "t") == rich_whole(console(80, True), columns, "t", None)


@pytest.fixture(scope="module")
def query_table(ungd, store):
    """The columns of ungd's query of 'territorial integrity' by year and source, as the
    CLI prints them (json: the values the table is made of)."""
    index_build(ungd, None, store)
    got = cli_main("query", "territorial integrity", "--corpus", ungd, "--store", str(store), "-f", "json")
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    assert len(rows) > 500  # every (year, source)
    return {name: [r[name] for r in rows] for name in rows[0]}


@pytest.mark.parametrize("width, terminal, encoding", [(100_000, False, "utf-8"), (120, True, "utf-8"),
                                                        (60, True, "utf-8"), (50, False, "ascii")])
def test_query_table_equals_rich_and_lays_out_its_rows_itself(query_table, monkeypatch, width, terminal, encoding):
    """On ungd's query (743 rows; folded on a narrow terminal): rich's text, with rich
    asked to print once (the head at the stand-in's widths), not once a row."""
    want = rich_whole(console(width, terminal, encoding), query_table, "'territorial integrity' in ungd", None)
    prints = []
    original = Console.print
    monkeypatch.setattr(Console, "print", lambda self, *a, **k: (prints.append(1), original(self, *a, **k))[1])
    got = table_text(console(width, terminal, encoding), query_table, "'territorial integrity' in ungd")
    assert got == want
    assert len(prints) == 1  # the head: every row laid out here
    assert len(got.splitlines()) >= len(query_table["period"]) + 4


def test_cli_table_is_rich_table(query_table, ungd, store, cli):
    """`formulae query` in the table format (into a pipe: the natural width) prints rich's
    whole table of its rows."""
    got = cli("query", "territorial integrity", "--corpus", ungd, "--store", str(store))
    assert got.returncode == 0, got.stderr
    numeric = {"statements", "occurrences", "tokens", "statements_total", "per_10k"}
    title = f"'territorial integrity' in {ungd} (norm)"
    assert got.stdout == rich_whole(console(100_000, False), query_table, title, numeric)


def test_rows_rich_must_lay_out_go_to_rich(monkeypatch):
    """A row with a line break, a tab or a format character is rich's; the others are not."""
    columns = {"text": ["plain"] * 70 + ["two\nlines", "a\tb", "zw\u200cnj"], "n": list(range(73))}
    want = rich_whole(console(100_000, False), columns, None, None)
    prints = []
    original = Console.print
    monkeypatch.setattr(Console, "print", lambda self, *a, **k: (prints.append(1), original(self, *a, **k))[1])
    got = table_text(console(100_000, False), columns)
    assert got == want
    assert len(prints) == 1 + 3


def test_table_print_writes_table_text(capsys):
    output.table_print({"a": list(range(100)), "b": ["x"] * 100}, "t")
    assert capsys.readouterr().out == rich_whole(console(100_000, False), {"a": list(range(100)), "b": ["x"] * 100},
                                                 "t", None)


def test_polars_table_read_in_slices_is_rich_table(monkeypatch, capsys):
    """A polars table is made into strings a slice of rows at a time (here 7: the last
    row, the folds and rich's rows fall in various slices); the text is still rich's."""
    import polars as pl

    frame = pl.DataFrame({"n": list(range(100)), "x": [None if k % 9 == 0 else k / 7 for k in range(100)],
                          "text": [("word " * (k % 5)) + "\u4e2d" * (k % 3) + ("\n" if k % 17 == 0 else "")
                                   for k in range(100)]})
    monkeypatch.setattr(output, "TABLE_SLICE_ROWS", 7)
    output.emit(frame, "table", title="sliced")
    numeric = {"n", "x"}
    assert capsys.readouterr().out == rich_whole(console(100_000, False), frame.to_dict(as_series=False), "sliced",
                                                 numeric)


@pytest.mark.parametrize("command", [["compare", "--a", "year<1990", "--b", "year>=1990"], ["reuse"],
                                     ["timeline", "sovereignty-territorial-integrity"]])
def test_long_tables_show_their_first_rows_and_say_so(query_table, ungd, store, command):
    """`compare`, `reuse` and `timeline` in the table format print their first 200 rows
    with a note (ungdc: compare of two decades 1.3 M rows, 66 s and 11 GB before; reuse
    3.7 M pairs, 90 s; a formula's timeline by year and source 10,952 rows, 0.70 s for the
    whole process with every row); CSV and --limit 0 give every row."""
    args = (command[0], "--corpus", ungd, "--store", str(store), *command[1:])
    every = cli_main(*args, "-f", "csv")
    assert every.returncode == 0, every.stderr
    total = len(every.stdout.splitlines()) - 1
    assert total > 200
    table = cli_main(*args)
    assert table.returncode == 0, table.stderr
    assert f"showing 200 of {total} rows (--limit; 0 = all)" in table.stderr
    first = every.stdout.splitlines()[1].split(",")[2]
    assert first in table.stdout
    assert len(table.stdout.splitlines()) == 200 + 5  # title, top, header, rule, rows, bottom
    assert "showing" not in every.stderr and "showing" not in cli_main(*args, "--limit", "0", "-f", "csv").stderr
