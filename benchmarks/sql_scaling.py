"""SQL benchmark: convert a generated SQLite database of at least 1,000,000 rows.

The Synthea sample is replicated (fresh ids per copy, as in ``convert_scaling``) until it holds
the requested number of rows, loaded into one SQLite database (one table per file, all columns
text), and converted with ``journalkonvert convert --system sql`` using the Synthea mapping. In
the same run, a baseline process copies the same tables from the same database to zstd Parquet:
it reads each table with Python's sqlite3 in batches and lets DuckDB write the Parquet file (DuckDB
cannot attach SQLite here: its sqlite extension would have to be downloaded). Both are measured
as child processes (wall time, peak RSS). Run from the repository root::

    python -m benchmarks.sql_scaling [--rows 1000000] [--workdir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from benchmarks.convert_scaling import DEFAULT_SOURCE, MIB, ChildFailedError, build_replica, measure

SAMPLE_ROWS = 10_950

# Baseline: copy every table of the SQLite database argv[1] to zstd Parquet files in argv[2].
SQLITE_TO_PARQUET = """\
import pathlib, sqlite3, sys, duckdb, pyarrow as pa
db, out = sys.argv[1], pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
src = sqlite3.connect(db, check_same_thread=False)
con = duckdb.connect()
for (name,) in src.execute("select name from sqlite_master where type='table' order by name").fetchall():
    cur = src.execute(f'select * from "{name}"')
    cols = [d[0] for d in cur.description]
    def batches():
        while rows := cur.fetchmany(50_000):
            yield pa.record_batch([pa.array(c, pa.string()) for c in zip(*rows)], names=cols)
    schema = pa.schema([(c, pa.string()) for c in cols])
    reader = pa.RecordBatchReader.from_batches(schema, batches())
    target = str(out / (name + ".parquet")).replace("'", "''")
    con.execute(f"COPY (SELECT * FROM reader) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
"""


def load_sqlite(folder: Path, db: Path) -> int:
    """Load every CSV file of ``folder`` into a new SQLite database (all columns text); return rows."""
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    total = 0
    for f in sorted(folder.glob("*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            head = next(reader)
            columns = ", ".join('"' + h.replace('"', '""') + '" text' for h in head)
            con.execute(f'create table "{f.stem}" ({columns})')
            marks = ",".join("?" * len(head))
            while chunk := [row for _, row in zip(range(50_000), reader, strict=False)]:
                con.executemany(f'insert into "{f.stem}" values ({marks})', chunk)
                total += len(chunk)
    con.commit()
    con.close()
    return total


def main(argv: list[str] | None = None) -> int:
    """Build the database, measure journalkonvert and the baseline, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="at least this many source rows")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the Synthea CSV sample")
    parser.add_argument("--workdir", type=Path, help="keep the database and outputs here")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    factor = -(-args.rows // SAMPLE_ROWS)
    own = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="jk-sql-")) if own else args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        replica = work / "csv"
        shutil.rmtree(replica, ignore_errors=True)
        build_replica(args.source.resolve(), replica, factor)
        db = work / "source.db"
        rows = load_sqlite(replica, db)
        shutil.rmtree(replica)
        print(f"SQLite database: {rows:,} rows in {db.stat().st_size / MIB:.0f} MiB", file=sys.stderr)
        out = work / "archive"
        shutil.rmtree(out, ignore_errors=True)
        jk_cmd = [
            sys.executable,
            "convert.py",
            "convert",
            "--quiet",
            "--no-validate",
            "--system",
            "sql",
            "--mapping",
            "mappings/synthea-csv.yaml",
            f"sqlite:///{db}",
            str(out),
        ]
        jk = measure("sql-journalkonvert", jk_cmd, work, rows)
        base_out = work / "duckdb-out"
        shutil.rmtree(base_out, ignore_errors=True)
        db_cmd = [sys.executable, "-c", SQLITE_TO_PARQUET, str(db), str(base_out)]
        base = measure("sql-baseline", db_cmd, work, rows)
    except ChildFailedError as exc:
        print(f"ERROR: {exc}; stderr tail:\n{exc.stderr_tail}", file=sys.stderr)
        return 2
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'':28}{'seconds':>10}{'rows/s':>12}{'peak RSS MiB':>15}")
    for label, m in (("journalkonvert (sql)", jk), ("sqlite3 + DuckDB to Parquet", base)):
        print(f"{label:28}{m.seconds:>10.1f}{m.rows_per_second:>12,.0f}{m.peak_rss_mib:>15.1f}")
    print(
        f"ratio journalkonvert/baseline: time {jk.seconds / base.seconds:.2f}, "
        f"RSS {jk.peak_rss_mib / base.peak_rss_mib:.2f}  ({rows:,} rows)"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "journalkonvert": jk.__dict__, "baseline": base.__dict__}, indent=2),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
