"""The compiled scanner against its definition, the regular expression.

``tokens_build(engine="scan")`` must give exactly the table of
``tokens_build(engine="regex")``: on generated texts built to hit every alternative
of the pattern (and its backtracking), and on the real corpora. The character table
it reads must be what the regex engine says of every code point.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tokens import _PIECES

from analysis.errors import FormulaeError
from analysis.text import scanner as scan
from analysis.text.grammar import CHAR_CLASSES
from analysis.text.tokens import tokens_build

# pieces that probe the scanner's hand-written backtracking
_EDGES = st.sampled_from(
    [
        "HTTPS://",
        "httpſ://a.b",
        "http:/x",
        "https:",
        "WWW.",
        "www",
        "(www.a.org)\u200e،",
        "http://a.b/c).\u200f",
        "a@b",
        "a@b.",
        "a.b+c-d@e-f.g.h",
        "x@-.y",
        "@",
        "#",
        "#_",
        "@_x",
        "1\ufe0f\u20e3",
        "1\u20e3",
        "#\ufe0f",
        "*\u20e3",
        "\U0001f1f8",
        "\U0001f1f8\U0001f1e6\U0001f1f8",
        "\U0001f44d\U0001f3fd\u200d",
        "\u2764\ufe0f\u200d\U0001f525",
        "\U0001f3fb",
        "\U000e0067",
        "A.B.",
        "A.b",
        "a.b.c",
        "a.B.",
        "I.",
        "J. F.",
        "Mr.",
        "No.",
        "1.2.3",
        "1..2",
        "1,",
        "٣٬٥",
        "a-",
        "a-\n",
        "a- \t\r\nb",
        "a-\r\rb",
        "a-\n\nb",
        "a\u200c\u200cb",
        "a\u200c",
        "a\u200d.",
        "a'b'",
        "a''b",
        "a\u00adb",
        "\u0640\u0640",
        '."',
        ".)",
        "?»",
        "!!!",
        "\u2026\u2026",
        "\x00",
        "\x85",
        "\u2028",
        "\r",
        "中国",
        "原则。",
        "WHO的",
        "ＷＨＯ１２",
        "a中",
        "中-a",
        "1年",
        "々ー",
        "カタカナ",
        "“冷战”",
        "！？；",
        "\uff61",
        "a@中.b",
        "#中国",
    ]
)
TEXTS = st.lists(st.one_of(_PIECES, _EDGES, st.text(max_size=3)), max_size=40).map("".join)


def _both(texts: list[str], line_breaks: str, mode: str = "norm"):
    frame = pl.DataFrame(
        {"doc": list(range(len(texts))), "text": texts},
        schema={"doc": pl.UInt32, "text": pl.String},
    )
    kw = {"language": "en", "line_breaks": line_breaks, "mode": mode}
    return (
        tokens_build(frame, engine="scan", **kw).collect(),
        tokens_build(frame, engine="regex", **kw).collect(),
    )


def _assert_same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.schema == b.schema
    if not a.equals(b):
        i = (
            a.with_row_index("i")
            .join(b.with_row_index("i"), on="i", how="full", suffix="_regex")
            .filter(
                pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_regex")) for c in a.columns)
            )
        )
        pytest.fail(f"scanner and regex differ ({a.height} vs {b.height} rows):\n{i.head(5)}")


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=4), st.sampled_from(["paragraph", "wrap"]))
def test_scanner_equals_regex(texts: list[str], line_breaks: str) -> None:
    _assert_same(*_both(texts, line_breaks))


@settings(max_examples=50, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=3))
def test_scanner_equals_regex_norm_plus(texts: list[str]) -> None:
    _assert_same(*_both(texts, "paragraph", "norm+"))


def test_scanner_edges() -> None:
    """Empty and blank texts, nulls, a token longer than the scanner's first arena."""
    long_word = "a" * 1_100_000 + " b"
    frame = pl.DataFrame(
        {"doc": [3, 1, 2, 0], "text": ["", None, " \n\u200f ", long_word]},
        schema={"doc": pl.UInt32, "text": pl.String},
    )
    a = tokens_build(frame, language="en", line_breaks="wrap", engine="scan").collect()
    b = tokens_build(frame, language="en", line_breaks="wrap", engine="regex").collect()
    _assert_same(a, b)
    assert a.select("doc", "start", "end").rows() == [(0, 0, 1_100_000), (0, 1_100_001, 1_100_002)]
    empty = tokens_build(frame.head(0), language="en", line_breaks="wrap", engine="scan")
    assert empty.collect().height == 0


def test_scanner_growth() -> None:
    """Runs, surfaces and the hash table outgrow their first sizes (the real corpora
    do too); a tiny first capacity forces every growth path on a small text."""
    words = [f"w{i}" for i in range(70_000)]  # > 3/4 of the first 65,536 slots
    text = " ".join(words) + ". " + " ".join(words)
    frame = pl.Series([text])
    chars = frame.str.len_chars().cast(pl.Int64).to_numpy()
    hi = np.cumsum(chars)
    cps = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    scanner = scan._Scanner(1, int(chars.max()))
    scanner.run(cps, hi - chars, hi, False, 0)
    *runs, surfaces = scanner.result()
    assert len(runs[0]) == 140_001
    assert surfaces[:2] == ["w0", "w1"] and len(surfaces) == 70_001
    codes = runs[4]
    assert codes[0] == codes[70_001] == 0 and codes[70_000] == 70_000  # "." then w0 again


def test_engine_choice_and_errors(monkeypatch) -> None:
    frame = pl.DataFrame({"doc": [0], "text": ["Mr. Lavrov met the U.N. envoy."]})
    auto = tokens_build(frame, language="en", line_breaks="paragraph").collect()
    _assert_same(auto, _both(["Mr. Lavrov met the U.N. envoy."], "paragraph")[0])
    # auto: the regex below SCAN_MIN_BYTES while the scanner is not loaded, else the scanner
    from analysis.text import tokens

    calls = []
    real = scan.scan
    monkeypatch.setattr(scan, "scan", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(scan, "LOADED", False)
    tokens_build(frame, language="en", line_breaks="paragraph").collect()
    assert calls == []
    monkeypatch.setattr(tokens, "SCAN_MIN_BYTES", 10)
    tokens_build(frame, language="en", line_breaks="paragraph").collect()
    assert calls == [1]
    monkeypatch.setattr(tokens, "SCAN_MIN_BYTES", 10**9)
    monkeypatch.setattr(scan, "LOADED", True)
    tokens_build(frame, language="en", line_breaks="paragraph").collect()
    assert calls == [1, 1]
    with pytest.raises(FormulaeError, match="engine 'fast' is not one of auto, scan, regex"):
        tokens_build(frame, language="en", line_breaks="paragraph", engine="fast")


def test_char_table_is_the_regex_engines() -> None:
    """The shipped table is current and says of every code point what the regex
    engine says (regenerate with ``scan.table_write()`` after changing a class)."""
    with np.load(scan.TABLE_PATH) as z:
        assert str(z["key"]) == scan.table_key(), "data/chars.npz is stale: run table_write()"
        shipped = z["table"]
    fresh = scan.table_build()
    for name, bit in scan._BIT.items():
        diff = np.flatnonzero((shipped & bit) != (fresh & bit))
        assert diff.size == 0, f"class {name}: {diff.size} code points differ, e.g. {diff[:5]}"
    # the scanner's shortcuts rely on these inclusions
    t = fresh
    for small, big in (("wordch", "email"), ("letter", "w"), ("wordch", "w"), ("digit", "w")):
        inside = (t & scan._BIT[small]) != 0
        assert np.all(t[inside] & scan._BIT[big]), f"{small} is not inside {big}"
    assert (t[ord("ſ")] & scan.CI_S) and (t[ord("S")] & scan.CI_S)
    assert set(CHAR_CLASSES) == set(scan._BIT)
    # ideographs are tokens of one character, never inside a word run
    assert not np.any((t & scan._BIT["ideograph"]) & (t & (scan._BIT["letter"] | scan._BIT["wordch"])))


@pytest.mark.slow
def test_scanner_equals_regex_on_real_corpora(shared_corpora) -> None:
    """All of saudinewsnet, the first 1,500 ungdc speeches, the mfa-ar seed posts, cn-mfa."""
    news = pl.read_ndjson(
        shared_corpora / "saudinewsnet" / "saudinewsnet_2015.jsonl.gz", infer_schema_length=None
    ).select(pl.col("content").alias("text"))
    un = pl.read_ndjson(
        shared_corpora / "ungdc" / "ungdc_1946_2024.jsonl.gz", n_rows=1500
    ).select("text")
    posts = pl.DataFrame({"text": [(shared_corpora / "mfa-ar-seed" / "posts.txt").read_text()]})
    cn = pl.read_ndjson(shared_corpora / "cn-mfa" / "cn_mfa_2020_2022h1.jsonl.gz").select("text")
    cases = ((news, "ar", "paragraph"), (un, "en", "wrap"), (posts, "ar", "paragraph"),
             (cn, "zh", "paragraph"))
    for frame, language, line_breaks in cases:
        frame = frame.with_row_index("doc")
        kw = {"language": language, "line_breaks": line_breaks}
        a = tokens_build(frame, engine="scan", **kw).collect()
        b = tokens_build(frame, engine="regex", **kw).collect()
        assert a.height > (500 if frame.height == 1 else 1_000_000)
        _assert_same(a, b)
