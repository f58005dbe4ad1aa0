"""Long text without sentence marks: the phrase index stays linear (issue 11, item 4).

A scraped page or an OCR dump can be megabytes of repetitive text with no ``.``. Before
the bounds in :mod:`analysis.phrases.engine` (sentences cut into chunks of
``SENTENCE_MAX`` tokens; long-phrase expansion bounded), 1 MB of such text made
``formulae index`` peak at 9 GB and 10 MB died allocating 151 GiB.

Corpora (written to a temporary store, ingested before timing):

- ``1mb``:  one statement of 1 MB of a repeated 12-word passage, no punctuation
- ``10mb``: the same, 10 MB
- ``10mb-x2``: two such statements of 10 MB (each starting with its own word, so not a
  repeat): every long phrase is in 2 statements, and the long-phrase bound is what keeps
  the build linear

Measured in the same run, each in a fresh process (wall time of the work; peak RSS):

- ``tokens``: ``tokens_build`` over the snapshot (the plain tokenise pass: the baseline)
- ``index``:  ``index_build`` at level ``norm`` (tokenise, forms, suffix array, n-grams,
  maximal phrases, write)

Target: 10 MB indexes in under 1 GB and a minute.

    uv run python bench/bench_longtext.py [--runs 1] [--sizes 1mb,10mb,10mb-x2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from child import ChildFailed, run_child_code

PASSAGE = ("the committee welcomes the continued cooperation of member states in the region and "
           "calls for restraint ")
CASES = {"1mb": (1, 1), "10mb": (10, 1), "10mb-x2": (10, 2)}

CHILD = {
    "tokens": """
import time
from analysis.ingest.snapshot import corpus_load, corpus_manifest
from analysis.text.tokens import tokens_build
m = corpus_manifest({name!r}, {store!r})
t = time.perf_counter()
n = tokens_build(corpus_load({name!r}, {store!r}), language='en', line_breaks=m['line_breaks']).collect().height
print(time.perf_counter() - t, n)
""",
    "index": """
import time
from analysis.phrases.build import index_build
t = time.perf_counter()
ix = index_build({name!r}, 'norm', {store!r}, force=True)
m = ix.manifest
print(time.perf_counter() - t, m['tokens'], m['maximal'], m['sentences_split'], m['long_phrases_skipped'])
""",
}


def corpus_write(folder: Path, name: str, megabytes: int, copies: int) -> Path:
    text = (PASSAGE * (megabytes * 2**20 // len(PASSAGE) + 1))[: megabytes * 2**20]
    # each copy starts with its own word: two texts, not a cross-source repeat
    rows = [{"id": f"{name}-{i}", "date": "2020-01-01", "source": f"s{i}", "text": f"copy{i} {text}"}
            for i in range(copies)]
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    decl = folder / f"{name}.yml"
    decl.write_text(f"name: {name}\nformat: jsonl\npath: {name}.jsonl\nlanguage: en\n"
                    "fields: {id: id, text: text, date: date, source: source}\n", encoding="utf-8")
    return decl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--sizes", default=",".join(CASES))
    args = ap.parse_args()
    from analysis.ingest.snapshot import corpus_ingest

    print(f"{'case':<9} {'step':<7} {'seconds':>8} {'peak MB':>8}  result")
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "store")
        for case in args.sizes.split(","):
            mb, copies = CASES[case]
            name = f"long-{case}"
            corpus_ingest(corpus_write(Path(tmp), name, mb, copies), store=store)
            for _ in range(args.runs):
                for step in ("tokens", "index"):
                    try:
                        out, peak = run_child_code(CHILD[step].format(name=name, store=store), step)
                    except ChildFailed as exc:
                        print(f"{case:<9} {step:<7} failed: {str(exc).splitlines()[-1]}")
                        continue
                    seconds, *rest = out
                    if step == "tokens":
                        detail = f"{int(rest[0]):,} tokens"
                    else:
                        detail = (f"{int(rest[0]):,} tokens, {int(rest[1]):,} maximal phrases, "
                                  f"{int(rest[2]):,} sentences cut, {int(rest[3]):,} long candidates left out")
                    print(f"{case:<9} {step:<7} {float(seconds):>8.2f} {peak:>8.0f}  {detail}", flush=True)


if __name__ == "__main__":
    main()
