"""Messages/s, pages/s and journal printouts/s of the readable PDF/A renderings.

Run: ``python -m benchmarks.render_throughput [--patients N] [--repeat N]``. Renders every KITH
message in ../shared/data/kith/messages and every HL7 v2 sample in
../shared/data/hl7v2-fhir-converter (``formats.message_render.render_message``, verified PDF/A-2b),
then converts a synthetic demo practice of ``--patients`` patients and prints the journal of each
patient (``reports.journal_pdf.render_journal_pdf``). Each row also gives the time to build the
page without PDF (the HTML and text), so the cost of WeasyPrint + pikepdf is visible.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from converters.pipeline import ConversionOptions, run_conversion
from converters.practice_generator import write_practice
from formats.message_render import RENDERERS, render_message
from formats.package import open_package
from reports.journal_pdf import build_journal_page, render_journal_pdf
from reports.query import connect

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = {"kith": (SHARED / "kith" / "messages", "*.xml"), "hl7v2": (SHARED / "hl7v2-fhir-converter", "*.hl7")}


def measure_messages(repeat: int) -> list[tuple[str, int, int, float, float, int]]:
    """Return (set, messages, pages, seconds, page-build seconds, not rendered) per message set."""
    rows = []
    for render, (folder, pattern) in SETS.items():
        files = [p.read_bytes() for p in sorted(folder.rglob(pattern))]
        if not files:
            continue
        render_message(files[0], render)  # imports and fonts once, as in a run
        build = time.perf_counter()
        for _ in range(repeat):
            for data in files:
                RENDERERS[render](data).html()
        build_s = time.perf_counter() - build
        pages = failed = 0
        start = time.perf_counter()
        for _ in range(repeat):
            for data in files:
                rendition = render_message(data, render)
                pages += rendition.page_count or 0
                failed += rendition.pdf is None
        rows.append((render, len(files) * repeat, pages, time.perf_counter() - start, build_s, failed))
    return rows


def measure_journals(patients: int) -> tuple[int, int, int, float, float]:
    """Return (printouts, pages, notes, seconds, page-build seconds) for every patient of a demo practice."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_practice(root / "source", patients=patients, seed=20261126)
        run_conversion(ConversionOptions(system="practice", source=root / "source", archive=root / "archive"))
        layout = open_package(root / "archive")
        con = connect(layout)
        pids = [str(p) for (p,) in con.execute("SELECT patient_id FROM patient ORDER BY patient_id").fetchall()]
        con.close()
        build = time.perf_counter()
        for pid in pids:
            build_journal_page(layout, pid)
        build_s = time.perf_counter() - build
        pages = notes = 0
        start = time.perf_counter()
        for pid in pids:
            printout = render_journal_pdf(layout, pid)
            pages += printout.page_count
            notes += printout.notes
        return len(pids), pages, notes, time.perf_counter() - start, build_s


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=20, help="patients in the demo practice")
    parser.add_argument("--repeat", type=int, default=1, help="times each message set is rendered")
    args = parser.parse_args()
    print(f"{'input':<22}{'docs':>6}{'pages':>7}{'docs/s':>9}{'pages/s':>9}{'ms/doc':>9}{'page build ms/doc':>19}")
    for render, docs, pages, seconds, build_s, failed in measure_messages(args.repeat):
        name = f"{render} messages" + (f" ({failed} failed)" if failed else "")
        print(
            f"{name:<22}{docs:>6}{pages:>7}{docs / seconds:>9.2f}{pages / seconds:>9.2f}"
            f"{1000 * seconds / docs:>9.0f}{1000 * build_s / docs:>19.1f}"
        )
    n, pages, notes, seconds, build_s = measure_journals(args.patients)
    print(
        f"{'journal printouts':<22}{n:>6}{pages:>7}{n / seconds:>9.2f}{pages / seconds:>9.2f}"
        f"{1000 * seconds / n:>9.0f}{1000 * build_s / n:>19.1f}   ({notes} notes)"
    )


if __name__ == "__main__":
    main()
