"""``journalkonvert verify``: the archivist's check, trusting nothing the run wrote except the bag itself.

Unlike ``validate`` (which also checks the run's own claims: ledger, document rows, model
schemas), ``verify`` reads only what a BagIt bag guarantees, so it works years later on a package
made by an older version of the tool:

* ``bag``: the bag is a bag (bagit.txt, bag-info.txt, manifests; Payload-Oxum), and bagit-python,
  an independent implementation of RFC 8493, agrees;
* ``fixity``: every file listed in a manifest has the listed checksum (our own reading);
* ``completeness``: every listed file is there, and every payload file is listed;
* ``formats``: every payload file identified by its content, and, outside ``originals/``, on
  Arkivverket's list (Parquet only as an access copy beside its CSV twin);
* ``twins``: every Parquet file opened and compared row for row with its CSV twin;
* ``pdfa``: every PDF outside ``originals/`` verified as PDF/A-2 (structure + validator);
* ``description``: README.txt, ADDML describing every CSV with matching checksum and record
  count, and a JSON Schema for every table.

Findings are :class:`validation.findings.Finding`; nothing here raises for a damaged package.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit

from formats.package import PackageLayout, open_package
from formats.progress import NullProgress, ProgressReporter
from validation.findings import Finding, Severity, ValidationReport
from validation.verify_content import check_description, check_formats, check_pdfa_files, check_twin_files
from validation.verify_state import Inspection, payload_paths

MAX_LISTED = 20
logging.getLogger("bagit").setLevel(logging.ERROR)  # its progress lines are not findings
_CHUNK = 1 << 20


@dataclass(frozen=True)
class VerifyCheck:
    """One check of ``verify``: id, what it proves, the rule it serves, and the function that runs it."""

    id: str
    title: str
    rule: str
    run: Callable[[Inspection], Iterator[Finding]]


def _read_tag_lines(path: Path) -> dict[str, str]:
    """Return the ``Label: value`` pairs of a BagIt tag file (continuation lines joined)."""
    fields: dict[str, str] = {}
    last = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line[:1] in (" ", "\t") and last:
            fields[last] += " " + line.strip()
        elif ":" in line:
            label, _, value = line.partition(":")
            last = label.strip()
            fields[last] = value.strip()
    return fields


def check_bag(ins: Inspection) -> Iterator[Finding]:
    """Check the bag's own declarations (bagit.txt, bag-info.txt, Payload-Oxum) and ask bagit-python (RFC 8493)."""
    root = ins.layout.root
    for name in ("bagit.txt", "bag-info.txt"):
        if not (root / name).is_file():
            yield Finding("bag", Severity.FATAL, f"{name} is missing: this is not a complete BagIt bag", path=name)
    if not ins.manifests:
        yield Finding("bag", Severity.FATAL, "no payload manifest (manifest-<algorithm>.txt): fixity cannot be proved")
    info = _read_tag_lines(root / "bag-info.txt") if (root / "bag-info.txt").is_file() else {}
    made_by = info.get("Bag-Software-Agent", "an unknown tool")
    model = info.get("Bag-Group-Identifier", "no model named")
    yield Finding("bag", Severity.INFO, f"made by {made_by} ({model}), bagged {info.get('Bagging-Date', '?')}")
    oxum = info.get("Payload-Oxum")
    if oxum:
        files = payload_paths(ins.layout)
        actual = f"{sum(p.stat().st_size for p in files)}.{len(files)}"
        if actual != oxum:
            yield Finding(
                "bag",
                Severity.ERROR,
                f"Payload-Oxum in bag-info.txt is {oxum}, the payload is {actual} (bytes.files)",
                path="bag-info.txt",
            )
    try:
        bagit.Bag(str(root)).validate(processes=1)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in (exc.details or [])[:3])
        more = f" (+{len(exc.details) - 3} more)" if exc.details and len(exc.details) > 3 else ""
        yield Finding("bag", Severity.ERROR, f"bagit-python rejects the bag: {exc.message}: {details}{more}")
    except bagit.BagError as exc:
        yield Finding("bag", Severity.ERROR, f"bagit-python cannot open the bag: {exc}")


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _label(algorithm: str) -> str:
    return algorithm.upper().replace("SHA", "SHA-")


def check_fixity(ins: Inspection) -> Iterator[Finding]:
    """Every file listed in a payload or tag manifest has the checksum listed (our own reading)."""
    root = ins.layout.root
    for manifest, (algorithm, listed) in sorted({**ins.manifests, **ins.tagmanifests}.items()):
        for rel, expected in sorted(listed.items()):
            path = root / rel
            if not ins.safe(rel):
                yield Finding("fixity", Severity.ERROR, f"{manifest} lists {rel!r}, a path outside the bag", path=rel)
                continue
            if not path.is_file():
                continue  # the completeness check names missing files
            actual = _digest(path, algorithm)
            if algorithm == "sha256":
                ins.sha256[rel] = actual
            if actual != expected.lower():
                yield Finding(
                    "fixity",
                    Severity.ERROR,
                    f"{rel} has been altered: its {_label(algorithm)} checksum differs from {manifest}",
                    path=rel,
                )
    yield Finding("fixity", Severity.INFO, f"{len(ins.sha256)} file(s) hashed", count=len(ins.sha256))


def check_completeness(ins: Inspection) -> Iterator[Finding]:
    """Every file a manifest lists exists; every payload file is in every payload manifest."""
    root = ins.layout.root
    present = {p.relative_to(root).as_posix() for p in payload_paths(ins.layout)}
    for manifest, (_algorithm, listed) in sorted({**ins.manifests, **ins.tagmanifests}.items()):
        for rel in sorted(listed):
            if ins.safe(rel) and not (root / rel).is_file():
                yield Finding("completeness", Severity.ERROR, f"{rel} is listed in {manifest} but missing", path=rel)
    for manifest, (_algorithm, listed) in sorted(ins.manifests.items()):
        for rel in sorted(present - set(listed)):
            yield Finding(
                "completeness",
                Severity.ERROR,
                f"{rel} is in data/ but not listed in {manifest} (added after the bag was sealed?)",
                path=rel,
            )
    tagged = {rel for _a, listed in ins.tagmanifests.values() for rel in listed}
    if ins.tagmanifests:
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and not rel.startswith(("data/", "tagmanifest-")) and rel not in tagged:
                yield Finding("completeness", Severity.WARNING, f"tag file {rel} is in no tag manifest", path=rel)


VERIFY_CHECKS: tuple[VerifyCheck, ...] = (
    VerifyCheck("bag", "The folder is a BagIt bag that bagit-python accepts", "RFC 8493 (BagIt)", check_bag),
    VerifyCheck("fixity", "Every file has the checksum its manifest lists", "RFC 8493 §3, SHA-256", check_fixity),
    VerifyCheck(
        "completeness",
        "Nothing missing, nothing added: the manifests and the files agree both ways",
        "RFC 8493 §3: every payload file in every payload manifest",
        check_completeness,
    ),
    VerifyCheck(
        "formats",
        "Every file identified by its content; access and archival copies on the archival list",
        "Riksarkivarens forskrift kap. 5 (RAF-220301)",
        check_formats,
    ),
    VerifyCheck(
        "twins",
        "Every Parquet file agrees row for row with its CSV twin",
        "archival twin: CSV (RFC 4180) holds what the Parquet access copy holds",
        check_twin_files,
    ),
    VerifyCheck(
        "pdfa",
        "Every PDF outside originals/ is verified PDF/A-2",
        "PDF/A-2 (ISO 19005-2) on the archival list",
        check_pdfa_files,
    ),
    VerifyCheck(
        "description",
        "The package describes itself: README, ADDML for every CSV, a JSON Schema for every table",
        "Arkivverket: structure description (ADDML) with every extract",
        check_description,
    ),
)
"""The checks of ``verify``, in the order they run."""


def verify_package(path: Path, *, progress: ProgressReporter | None = None) -> ValidationReport:
    """Verify the package at ``path`` as an archivist would: only the bag is trusted.

    Every check runs to the end; at most MAX_LISTED findings per check are listed, the rest
    counted in one more finding.

    Raises:
        ArchiveError: only when ``path`` is not a package at all (no bagit.txt or data/).

    Example:
        >>> verify_package(Path("archive")).valid  # doctest: +SKIP
        True
    """
    layout: PackageLayout = open_package(path)
    progress = progress or NullProgress()
    ins = Inspection.open(layout)
    report = ValidationReport(archive=str(path))
    progress.start(len(VERIFY_CHECKS), "verifying")
    for check in VERIFY_CHECKS:
        found = list(check.run(ins))
        listed = [f for f in found if f.severity is not Severity.INFO][:MAX_LISTED]
        hidden = sum(1 for f in found if f.severity is not Severity.INFO) - len(listed)
        report.findings.extend(listed)
        if hidden > 0:
            worst = min((f.severity for f in found), key=list(Severity).index)
            report.findings.append(Finding(check.id, worst, f"{hidden} more finding(s) of this check not listed"))
        report.findings.extend(f for f in found if f.severity is Severity.INFO)
        report.checks_run.append(check.id)
        progress.advance(1, check.title)
    progress.finish()
    report.stats = {f"files.{k}": v for k, v in sorted(ins.formats.items())}
    report.stats["files.payload"] = len(payload_paths(layout))
    return report


__all__ = ["MAX_LISTED", "VERIFY_CHECKS", "VerifyCheck", "verify_package"]
