"""FHIR reader throughput: resources/s and peak RSS, beside fhiry flattening the same bundles.

Builds replicas of the shared Synthea FHIR sets (../shared/data/synthea-fhir-r4 and
synthea-hiv-fhir-r4): copy k gets fresh, consistently remapped UUIDs, so patients and references
stay distinct. For each size it runs, each in its own child process (wall time and the child's peak
RSS measured as in benchmarks/convert_scaling.py):

- ``journalkonvert convert --system fhir --no-pdfa --no-validate`` (the whole conversion: parse,
  map, Parquet + CSV twins, ledger, originals, bag);
- ``fhiry`` (PyPI, a peer that flattens FHIR Bundles into one pandas DataFrame) on the same folder.

fhiry is not a dependency of journalkonvert: ``pip install fhiry`` into the venv to run the peer;
without it the peer's row says so. Run from the repo root::

    .venv/bin/python benchmarks/fhir_throughput.py --min-resources 50000

Exit codes: 0 done, 2 a journalkonvert run failed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared" / "data"
DEFAULT_SETS = ("synthea-fhir-r4", "synthea-hiv-fhir-r4")
UUID_RE = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ID_NAMESPACE = uuid.UUID("0c4e7a52-3d0e-4b8e-9a51-5e2f0c1d7f11")
MIB = 1024 * 1024

MEASURE_WRAPPER = """\
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[2:]).returncode
wall = time.perf_counter() - t0
maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as fh:
    json.dump({"rc": rc, "seconds": wall, "peak_rss_bytes": maxrss * 1024}, fh)
"""

FHIRY_PEER = """\
import sys
from fhiry import Fhiry
f = Fhiry()
f.folder = sys.argv[1]
f.process_source()
print(f"fhiry rows={len(f.df)} columns={len(f.df.columns)}", file=sys.stderr)
"""


def count_resources(folder: Path) -> int:
    """Count the resources of every Bundle in ``folder`` (a plain JSON walk)."""
    return sum(len(json.loads(f.read_bytes()).get("entry", [])) for f in folder.glob("*.json"))


def build_replica(sources: list[Path], dest: Path, min_resources: int) -> tuple[int, int]:
    """Write copies of the source bundles into ``dest`` until it holds ``min_resources``; return (files, resources)."""
    dest.mkdir(parents=True, exist_ok=True)
    originals = [(f, f.read_bytes()) for folder in sources for f in sorted(folder.glob("*.json"))]
    per_copy = sum(len(json.loads(data).get("entry", [])) for _f, data in originals)
    copies = max(1, -(-min_resources // per_copy))
    for k in range(copies):
        cache: dict[bytes, bytes] = {}

        def fresh(match: re.Match[bytes], k: int = k, cache: dict[bytes, bytes] = cache) -> bytes:
            old = match.group(0)
            if old not in cache:
                cache[old] = str(uuid.uuid5(ID_NAMESPACE, f"{k}:{old.decode()}")).encode()
            return cache[old]

        for f, data in originals:
            (dest / f"c{k:03d}_{f.name}").write_bytes(data if k == 0 else UUID_RE.sub(fresh, data))
    return copies * len(originals), copies * per_copy


def measure(label: str, argv: list[str], scratch: Path) -> dict[str, float | int | str]:
    """Run ``argv`` as the only child of a wrapper; return its wall time, exit code and peak RSS."""
    out = scratch / f"{label}.json"
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE_WRAPPER, str(out), *argv], cwd=REPO_ROOT, capture_output=True, text=True
    )
    result: dict[str, float | int | str] = json.loads(out.read_text()) if out.is_file() else {"rc": proc.returncode}
    result["stderr_tail"] = proc.stderr[-400:]
    return result


def fhiry_available() -> bool:
    """Whether the peer is installed in this interpreter's environment."""
    probe = subprocess.run([sys.executable, "-c", "import fhiry"], capture_output=True)
    return probe.returncode == 0


def main(argv: list[str] | None = None) -> int:
    """Build the replica, run both, print one table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-resources", type=int, default=50_000)
    parser.add_argument(
        "--sizes", type=int, nargs="*", help="extra smaller sizes (resources) to show memory stays flat"
    )
    parser.add_argument("--keep", type=Path, help="keep the replicas and packages in this folder")
    args = parser.parse_args(argv)
    sources = [SHARED / s for s in DEFAULT_SETS if (SHARED / s).is_dir()]
    if not sources:
        print("the shared FHIR sets are not available", file=sys.stderr)
        return 2
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="jk-fhir-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    rows = []
    failed = False
    for size in sorted({*(args.sizes or []), args.min_resources}):
        replica = scratch / f"replica-{size}"
        files, resources = build_replica(sources, replica, size)
        mib = sum(f.stat().st_size for f in replica.iterdir()) / MIB
        pkg = scratch / f"pkg-{size}"
        shutil.rmtree(pkg, ignore_errors=True)
        ours = measure(
            f"jk-{size}",
            [
                sys.executable,
                "convert.py",
                "convert",
                "--system",
                "fhir",
                "--no-pdfa",
                "--no-validate",
                str(replica),
                str(pkg),
            ],
            scratch,
        )
        failed = failed or ours.get("rc") != 0
        rows.append(("journalkonvert fhir", files, resources, mib, ours))
        if fhiry_available():
            peer = measure(f"fhiry-{size}", [sys.executable, "-c", FHIRY_PEER, str(replica)], scratch)
            rows.append(("fhiry (peer)", files, resources, mib, peer))
        else:
            rows.append(("fhiry (peer)", files, resources, mib, {"rc": "not installed (pip install fhiry)"}))
    header = f"{'tool':22} {'files':>6} {'resources':>10} {'MiB':>7} {'seconds':>8} {'resources/s':>12}"
    print(f"{header} {'peak RSS MiB':>13} rc")
    for tool, files, resources, mib, m in rows:
        seconds = float(m.get("seconds", 0) or 0)
        rate = f"{resources / seconds:,.0f}" if seconds else "-"
        rss = f"{float(m.get('peak_rss_bytes', 0)) / MIB:,.0f}" if "peak_rss_bytes" in m else "-"
        print(f"{tool:22} {files:>6} {resources:>10,} {mib:>7.1f} {seconds:>8.1f} {rate:>12} {rss:>13} {m.get('rc')}")
        if m.get("rc") not in (0, None) and m.get("stderr_tail"):
            print(f"  {tool} stderr: {str(m['stderr_tail']).strip()[-300:]}")
    if args.keep is None:
        shutil.rmtree(scratch, ignore_errors=True)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
