"""Documents/s and pages/s of PDF/A normalisation per input type, with the baseline of copying the bytes.

Run: ``python -m benchmarks.document_throughput [--repeat N] [--batch-office]``. Each input type of
the synthetic corpus (benchmarks/document_corpus.py) is normalised ``--repeat`` times with one
normaliser (as in a conversion run: one LibreOffice profile for the run); the baseline writes the
same bytes to a file and reads them back (what keeping only the original costs).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.document_corpus import CorpusDocument, build_corpus
from formats.pdfa_normalise import DocumentNormaliser
from formats.pdfa_tools import OfficeConverter, finish_pdfa


def _copy_baseline(docs: list[CorpusDocument], repeat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i in range(repeat):
            for n, doc in enumerate(docs):
                target = Path(tmp) / f"{i}-{n}{doc.suffix}"
                target.write_bytes(doc.data)
                target.read_bytes()
        return time.perf_counter() - start


def measure(repeat: int) -> list[tuple[str, int, int, float, float]]:
    """Return (input type, documents, pages, seconds, copy baseline seconds) per type."""
    corpus = build_corpus()
    by_kind: dict[str, list[CorpusDocument]] = defaultdict(list)
    for doc in corpus:
        by_kind[doc.kind].append(doc)
    normaliser = DocumentNormaliser()
    normaliser(corpus[0].data, corpus[0].suffix, None)  # imports and fonts loaded once, as in a run
    rows = []
    for kind, docs in sorted(by_kind.items()):
        pages = 0
        start = time.perf_counter()
        for _ in range(repeat):
            for doc in docs:
                rendition = normaliser(doc.data, doc.suffix, None)
                pages += (rendition.page_count or 0) if rendition is not None else 0
        seconds = time.perf_counter() - start
        rows.append((kind, len(docs) * repeat, pages, seconds, _copy_baseline(docs, repeat)))
    normaliser.office.close()
    return rows


def measure_office_batch(repeat: int) -> tuple[int, float] | None:
    """Return (documents, seconds) for the office files converted in one LibreOffice call (None: no LibreOffice)."""
    office = OfficeConverter()
    if not office.available:
        return None
    docs = [d for d in build_corpus() if d.kind in ("rtf", "doc", "docx", "odt")] * repeat
    office.convert(docs[0].data, docs[0].suffix)  # profile created once
    start = time.perf_counter()
    for pdf in office.convert_many([(d.data, d.suffix) for d in docs]):
        finish_pdfa(pdf, drop_dates=True)
    seconds = time.perf_counter() - start
    office.close()
    return len(docs), seconds


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="how often each document is normalised")
    parser.add_argument("--batch-office", action="store_true", help="also time LibreOffice converting in one call")
    args = parser.parse_args(argv)
    print(f"{'input type':<10} {'docs':>5} {'pages':>6} {'docs/s':>9} {'pages/s':>9} {'ms/doc':>8} {'copy docs/s':>12}")
    for kind, docs, pages, seconds, baseline in measure(args.repeat):
        print(
            f"{kind:<10} {docs:>5} {pages:>6} {docs / seconds:>9.1f} {pages / seconds:>9.1f} "
            f"{1000 * seconds / docs:>8.1f} {docs / max(baseline, 1e-9):>12.0f}"
        )
    if args.batch_office:
        batch = measure_office_batch(args.repeat)
        if batch is None:
            print("office batch: LibreOffice is not installed")
        else:
            n, seconds = batch
            print(f"office batch (one LibreOffice call for {n} files): {n / seconds:.1f} docs/s")


if __name__ == "__main__":
    main()
