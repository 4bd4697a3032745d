"""Scaling benchmark: does the converter's peak memory stay flat as input grows?

Builds replicated copies of the Synthea CSV sample (copy k > 0 gets fresh,
consistently remapped UUIDs), converts each replica with journalkonvert in a
subprocess and, as a baseline, copies the same CSVs to Parquet with DuckDB.
Wall time and the child's peak RSS are measured for both. Run from the repo
root; see benchmarks/README.md. Exit codes: 0 PASS, 1 FAIL (peak RSS at the
largest factor more than 25 % above the smallest), 2 a subprocess failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "synthea-csv"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ID_NAMESPACE = uuid.UUID("6f1c7a52-3d0e-4b8e-9a51-5e2f0c1d7b33")
RSS_TARGET = 1.25
MIB = 1024 * 1024

# Runs argv[2:] as its only child, then writes that child's wall time, exit code
# and peak RSS (ru_maxrss of RUSAGE_CHILDREN: KiB on Linux, bytes on macOS) to
# the JSON file argv[1]. The child's stdout/stderr are inherited.
MEASURE_WRAPPER = """\
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[2:]).returncode
wall = time.perf_counter() - t0
maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
scale = 1 if sys.platform == "darwin" else 1024
with open(sys.argv[1], "w") as fh:
    json.dump({"rc": rc, "seconds": wall, "peak_rss_bytes": maxrss * scale}, fh)
"""

# Baseline: DuckDB copies every CSV file in argv[1] to zstd Parquet in argv[2].
DUCKDB_COPY = """\
import pathlib, sys, duckdb
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
con = duckdb.connect()
lit = lambda p: "'" + str(p).replace("'", "''") + "'"
for f in sorted(src.glob("*.csv")):
    con.execute(f"COPY (SELECT * FROM read_csv({lit(f)}, all_varchar=true)) TO "
                f"{lit(out / (f.stem + '.parquet'))} (FORMAT parquet, COMPRESSION zstd)")
con.close()
"""


@dataclass
class Measurement:
    """Wall time and peak RSS of one measured child process."""

    seconds: float
    peak_rss_mib: float
    rows_per_second: float


@dataclass
class FactorResult:
    """Figures for one replication factor."""

    factor: int
    source_rows: int
    source_bytes: int
    journalkonvert: Measurement
    duckdb: Measurement
    time_ratio: float
    rss_ratio: float
    validate: Measurement | None = None


class ChildFailedError(Exception):
    """A measured subprocess exited non-zero."""

    def __init__(self, label: str, returncode: int, stderr_tail: str) -> None:
        """Store the failing child's label, exit code and stderr tail."""
        super().__init__(f"{label} exited with {returncode}")
        self.label = label
        self.returncode = returncode
        self.stderr_tail = stderr_tail


def fresh_id(copy: int, old: str) -> str:
    """Return the deterministic replacement for UUID ``old`` in copy ``copy``."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{copy}:{old}"))


def remap_field(copy: int, value: str, cache: dict[str, str]) -> str:
    """Replace every UUID-shaped substring of ``value`` for copy ``copy``.

    ``cache`` memoises old -> new ids for one (file, copy) pass; its size is
    bounded by the distinct ids in one source file, not by the factor.
    """
    if copy == 0 or len(value) < 36 or "-" not in value:
        return value

    def repl(match: re.Match[str]) -> str:
        old = match.group(0)
        new = cache.get(old)
        if new is None:
            new = cache[old] = fresh_id(copy, old)
        return new

    return UUID_RE.sub(repl, value)


def build_replica(source: Path, dest: Path, factor: int) -> tuple[int, int]:
    """Write the CSVs of ``source`` into ``dest`` with every data row ``factor`` times.

    Streams row by row (source re-read once per copy), so memory does not grow
    with ``factor``. Returns (data rows written, bytes written).
    """
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted(source.glob("*.csv"))
    if not files:
        raise SystemExit(f"no *.csv files in {source}")
    rows = 0
    for src_file in files:
        out_file = dest / src_file.name
        with out_file.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            for copy in range(factor):
                with src_file.open(newline="", encoding="utf-8") as fh:
                    reader = csv.reader(fh)
                    header = next(reader, None)
                    if header is None:
                        break
                    if copy == 0:
                        writer.writerow(header)
                    cache: dict[str, str] = {}
                    for row in reader:
                        writer.writerow([remap_field(copy, v, cache) for v in row])
                        rows += 1
    size = sum(f.stat().st_size for f in dest.glob("*.csv"))
    return rows, size


def measure(label: str, cmd: list[str], workdir: Path, rows: int) -> Measurement:
    """Run ``cmd`` (cwd = repo root) under the rusage wrapper and measure it.

    Raises ChildFailedError with the tail of the child's stderr on failure.
    """
    stats_file = workdir / f"{label}.rusage.json"
    stderr_file = workdir / f"{label}.stderr.txt"
    stats_file.unlink(missing_ok=True)
    wrapped = [sys.executable, "-c", MEASURE_WRAPPER, str(stats_file), *cmd]
    with stderr_file.open("wb") as err:
        proc = subprocess.run(wrapped, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=err, check=False)
    tail = stderr_file.read_text(encoding="utf-8", errors="replace")[-3000:]
    if proc.returncode != 0 or not stats_file.exists():
        raise ChildFailedError(label, proc.returncode, tail)
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    if stats["rc"] != 0:
        raise ChildFailedError(label, int(stats["rc"]), tail)
    seconds = float(stats["seconds"])
    return Measurement(
        seconds=seconds,
        peak_rss_mib=stats["peak_rss_bytes"] / MIB,
        rows_per_second=rows / seconds if seconds > 0 else float("inf"),
    )


def converter_cmd(template: str | None, src: Path, out: Path) -> list[str]:
    """Return the converter command line for replica ``src`` and output ``out``."""
    if template is None:
        return [
            sys.executable,
            "convert.py",
            "convert",
            "--system",
            "synthea-csv",
            "--quiet",
            "--no-validate",
            str(src),
            str(out),
        ]
    return [
        part.replace("{python}", sys.executable).replace("{src}", str(src)).replace("{out}", str(out))
        for part in shlex.split(template)
    ]


def run_factor(args: argparse.Namespace, workdir: Path, factor: int) -> FactorResult:
    """Build the ×``factor`` replica and measure converter and baseline on it."""
    base = workdir / f"x{factor}"
    shutil.rmtree(base, ignore_errors=True)  # stale replica/outputs of a rerun
    src = base / "synthea-csv"
    rows, size = build_replica(args.source, src, factor)
    print(f"x{factor}: replica {rows:,} rows, {size / MIB:.1f} MiB -> measuring", file=sys.stderr)
    jk_cmd = converter_cmd(args.converter_cmd, src, base / "journalkonvert-out")
    jk = measure(f"x{factor}-journalkonvert", jk_cmd, base, rows)
    validate = None
    if args.converter_cmd is None:  # the package is ours: time `validate` on it too (informational)
        val_cmd = [sys.executable, "convert.py", "validate", "--json", str(base / "journalkonvert-out")]
        validate = measure(f"x{factor}-validate", val_cmd, base, rows)
    db_cmd = [sys.executable, "-c", DUCKDB_COPY, str(src), str(base / "duckdb-out")]
    db = measure(f"x{factor}-duckdb", db_cmd, base, rows)
    return FactorResult(
        factor=factor,
        source_rows=rows,
        source_bytes=size,
        journalkonvert=jk,
        duckdb=db,
        time_ratio=jk.seconds / db.seconds if db.seconds > 0 else float("inf"),
        rss_ratio=jk.peak_rss_mib / db.peak_rss_mib,
        validate=validate,
    )


def print_table(results: list[FactorResult]) -> None:
    """Print the per-factor figures as a plain-text table."""
    head = (
        "factor",
        "rows",
        "jk s",
        "jk rows/s",
        "jk RSS MiB",
        "duckdb s",
        "duckdb rows/s",
        "duckdb RSS MiB",
        "time jk/db",
        "RSS jk/db",
    )
    lines = [head] + [
        (
            f"x{r.factor}",
            f"{r.source_rows:,}",
            f"{r.journalkonvert.seconds:.2f}",
            f"{r.journalkonvert.rows_per_second:,.0f}",
            f"{r.journalkonvert.peak_rss_mib:.1f}",
            f"{r.duckdb.seconds:.2f}",
            f"{r.duckdb.rows_per_second:,.0f}",
            f"{r.duckdb.peak_rss_mib:.1f}",
            f"{r.time_ratio:.2f}",
            f"{r.rss_ratio:.2f}",
        )
        for r in results
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def parse_factors(text: str) -> list[int]:
    """Parse ``"1,20"`` into a sorted list of distinct positive ints."""
    try:
        factors = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad --factors {text!r}") from exc
    if not factors or factors[0] < 1:
        raise argparse.ArgumentTypeError("--factors must be positive integers")
    return factors


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.convert_scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="Synthea CSV directory (read in place; default %(default)s)"
    )
    p.add_argument(
        "--factors", type=parse_factors, default=[1, 20], help="comma-separated replication factors (default 1,20)"
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where replicas/outputs go (default: a new temp dir, removed afterwards unless --keep)",
    )
    p.add_argument("--json", type=Path, default=None, help="write figures as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temp workdir")
    # Hidden: replace the converter command; {src}, {out}, {python} are substituted.
    p.add_argument("--converter-cmd", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    args = parse_args(argv)
    args.source = args.source.resolve()
    own_tmp = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="jk-scaling-")) if own_tmp else args.workdir
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir: {workdir}", file=sys.stderr)
    try:
        results = [run_factor(args, workdir, f) for f in args.factors]
    except ChildFailedError as exc:
        print(f"ERROR: {exc}; stderr tail:\n{exc.stderr_tail}", file=sys.stderr)
        return 2
    finally:
        if own_tmp and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print_table(results)
    small, large = results[0], results[-1]
    growth = large.journalkonvert.peak_rss_mib / small.journalkonvert.peak_rss_mib
    passed = growth <= RSS_TARGET
    print(
        f"\njournalkonvert peak RSS x{large.factor}/x{small.factor}: {growth:.2f} "
        f"({large.journalkonvert.peak_rss_mib:.1f} / "
        f"{small.journalkonvert.peak_rss_mib:.1f} MiB)"
    )
    if small.validate is not None and large.validate is not None:
        for r in results:
            assert r.validate is not None
            print(f"validate x{r.factor}: {r.validate.seconds:.2f} s, peak RSS {r.validate.peak_rss_mib:.1f} MiB")
        v_growth = large.validate.peak_rss_mib / small.validate.peak_rss_mib
        print(f"validate peak RSS x{large.factor}/x{small.factor}: {v_growth:.2f} (informational)")
    verdict = "PASS" if passed else "FAIL"
    print(f"{verdict}: target peak RSS at x{large.factor} within {RSS_TARGET - 1:.0%} of x{small.factor}")
    if args.json is not None:
        doc = {
            "source": str(args.source),
            "converter_cmd": args.converter_cmd or "convert.py convert (default)",
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "rss_method": "python wrapper, getrusage(RUSAGE_CHILDREN).ru_maxrss",
            "results": [asdict(r) for r in results],
            "rss_growth_largest_vs_smallest": growth,
            "rss_target": RSS_TARGET,
            "pass": passed,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
