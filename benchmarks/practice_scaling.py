"""Practice benchmark: generate the demo GP practice at 10,000 and 100,000 patients and convert it.

For each size, three child processes are measured (wall time, peak RSS, as in ``convert_scaling``):

1. the generator (``converters.practice_generator.write_practice``) writing the practice folder;
2. ``journalkonvert convert --system practice`` on it (database, KITH messages, attachments);
3. the baseline in the same run: every table of the practice's ``journal.sqlite`` copied to zstd
   Parquet with Python's sqlite3 and DuckDB (the baseline of ``sql_scaling``).

Rates: journalkonvert's rows/s counts every source record of its ledger (database rows, message
records, attachment files); the baseline's counts the database rows it copies (it reads no messages
or files, so it does less work). Run from the repository root::

    python -m benchmarks.practice_scaling [--patients 10000,100000] [--workdir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.convert_scaling import MIB, ChildFailedError, Measurement, measure

# Baseline: copy every table of the SQLite database argv[1] to zstd Parquet files in argv[2]. Values keep
# their SQLite storage class (integer, real, text as bytes: the DOS-era notes are not UTF-8).
SQLITE_TO_PARQUET = """\
import pathlib, sqlite3, sys, duckdb, pyarrow as pa
db, out = sys.argv[1], pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
src = sqlite3.connect(db, check_same_thread=False)
src.text_factory = bytes
con = duckdb.connect()
for (name,) in src.execute("select name from sqlite_master where type='table' order by name").fetchall():
    name = name.decode()
    cur = src.execute(f'select * from "{name}"')
    cols = [d[0] for d in cur.description]
    first = cur.fetchmany(50_000)
    arrays = [pa.array(c) for c in zip(*first)]
    schema = pa.schema([(n, a.type if not pa.types.is_null(a.type) else pa.binary()) for n, a in zip(cols, arrays)])
    def batches(rows=first):
        while rows:
            yield pa.record_batch([pa.array(c, f.type) for c, f in zip(zip(*rows), schema)], schema=schema)
            rows = cur.fetchmany(50_000)
    reader = pa.RecordBatchReader.from_batches(schema, batches())
    target = str(out / (name + ".parquet")).replace("'", "''")
    con.execute(f"COPY (SELECT * FROM reader) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
"""

GENERATE = """\
import json, sys
from pathlib import Path
from converters.practice_generator import write_practice
counts = write_practice(Path(sys.argv[1]), patients=int(sys.argv[2]))
Path(sys.argv[3]).write_text(json.dumps(counts), encoding="utf-8")
"""


@dataclass
class SizeResult:
    """Figures for one practice size."""

    patients: int
    database_rows: int
    messages: int
    attachments: int
    source_records: int
    source_mib: float
    generator: Measurement
    journalkonvert: Measurement
    baseline: Measurement


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_size(work: Path, patients: int, *, pdfa: bool = False) -> SizeResult:
    """Generate one practice and measure the conversion and the baseline on it."""
    base = work / f"p{patients}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    source, counts_file = base / "practice", base / "counts.json"
    gen = measure(f"p{patients}-generate", [sys.executable, "-c", GENERATE, str(source), str(patients),
                                            str(counts_file)], base, patients)  # fmt: skip
    counts: dict[str, int] = json.loads(counts_file.read_text(encoding="utf-8"))
    db_rows = sum(n for table, n in counts.items() if table.isupper())
    gen.rows_per_second = db_rows / gen.seconds if gen.seconds > 0 else float("inf")
    print(
        f"{patients:,} patients: {db_rows:,} database rows, {counts['meldinger']:,} messages, "
        f"{counts['vedlegg']:,} attachments, {_folder_bytes(source) / MIB:.0f} MiB; generated in {gen.seconds:.1f} s",
        file=sys.stderr,
    )
    out = base / "archive"
    jk_cmd = [sys.executable, "convert.py", "convert", "--quiet", "--no-validate", "--system", "practice",
              *([] if pdfa else ["--no-pdfa"]), str(source), str(out)]  # fmt: skip
    jk = measure(f"p{patients}-journalkonvert", jk_cmd, base, db_rows)
    summary = json.loads((out / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    records = int(summary["totals"]["source_rows"])
    jk.rows_per_second = records / jk.seconds if jk.seconds > 0 else float("inf")
    db_cmd = [sys.executable, "-c", SQLITE_TO_PARQUET, str(source / "journal.sqlite"), str(base / "duckdb-out")]
    baseline = measure(f"p{patients}-baseline", db_cmd, base, db_rows)
    size = _folder_bytes(source) / MIB
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(base / "duckdb-out", ignore_errors=True)
    return SizeResult(patients, db_rows, counts["meldinger"], counts["vedlegg"], records, size, gen, jk, baseline)


def print_table(results: list[SizeResult]) -> None:
    """Print the figures of every size and the ratios journalkonvert / baseline."""
    print(f"{'patients':>9} {'what':<30}{'records':>12}{'seconds':>10}{'rows/s':>12}{'peak RSS MiB':>14}")
    for r in results:
        lines = (
            ("generator (write_practice)", r.database_rows, r.generator),
            ("journalkonvert --system practice", r.source_records, r.journalkonvert),
            ("sqlite3 + DuckDB to Parquet", r.database_rows, r.baseline),
        )
        for label, rows, m in lines:
            print(f"{r.patients:>9,} {label:<30}{rows:>12,}{m.seconds:>10.1f}{m.rows_per_second:>12,.0f}"
                  f"{m.peak_rss_mib:>14.1f}")  # fmt: skip
        print(
            f"{'':>9} ratio journalkonvert/baseline: time {r.journalkonvert.seconds / r.baseline.seconds:.2f}, "
            f"RSS {r.journalkonvert.peak_rss_mib / r.baseline.peak_rss_mib:.2f}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(
            f"peak RSS {large.patients:,} / {small.patients:,} patients: journalkonvert "
            f"{large.journalkonvert.peak_rss_mib / small.journalkonvert.peak_rss_mib:.2f}, generator "
            f"{large.generator.peak_rss_mib / small.generator.peak_rss_mib:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Generate, convert and copy each size; print the figures (exit 2 if a child fails)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", default="10000,100000", help="comma-separated practice sizes")
    parser.add_argument("--workdir", type=Path, help="keep the practices here (default: a temp folder, deleted)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument(
        "--pdfa",
        action="store_true",
        help="also make PDF/A renditions of messages and attachments (off: measured by bench-documents)",
    )
    args = parser.parse_args(argv)
    print(f"PDF/A renditions: {'on' if args.pdfa else 'off (--no-pdfa; see make bench-documents)'}", file=sys.stderr)
    sizes = sorted(int(p) for p in args.patients.split(","))
    own = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="jk-practice-")) if own else args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    results: list[SizeResult] = []
    try:
        for patients in sizes:
            results.append(run_size(work, patients, pdfa=args.pdfa))
    except ChildFailedError as exc:
        print(f"ERROR: {exc}; stderr tail:\n{exc.stderr_tail}", file=sys.stderr)
        return 2
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
