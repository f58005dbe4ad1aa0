"""Rebuild corpus/ungd/ungd_subset.jsonl.gz from the full UN General Debate Corpus.

    uv run python corpus/ungd/make_subset.py [../shared/corpora/ungdc/ungdc_1946_2024.jsonl.gz]

Keeps, byte for byte and in the original order, every line (speech) of the countries
below; writes gzip with mtime 0 and no file name, so the output bytes are deterministic.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

COUNTRIES = ("CHN", "EGY", "FRA", "GBR", "IRN", "RUS", "SAU", "SYR", "TUR", "USA")
HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / ".." / "shared" / "corpora" / "ungdc" / "ungdc_1946_2024.jsonl.gz"


def main(source: Path = DEFAULT_SOURCE, target: Path = HERE / "ungd_subset.jsonl.gz") -> None:
    keep = [ln for ln in gzip.decompress(Path(source).read_bytes()).splitlines(keepends=True)
            if ln.strip() and json.loads(ln)["country_iso3"] in COUNTRIES]
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(b"".join(keep))
    print(f"{target}: {len(keep)} speeches of {', '.join(COUNTRIES)}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:2]))
