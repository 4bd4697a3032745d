"""What ``verify`` reads once and shares between its checks: the manifests, digests, identified formats."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from formats.package import PackageLayout
from validation.verify_formats import Identified

Manifest = tuple[str, dict[str, str]]
"""A manifest: its hash algorithm, and relative path -> digest."""


def payload_paths(layout: PackageLayout) -> list[Path]:
    """Return every file under ``data/``, sorted by path."""
    return sorted((p for p in layout.data.rglob("*") if p.is_file()), key=lambda p: p.as_posix())


def read_manifest_file(path: Path) -> dict[str, str]:
    """Return relative path -> digest of a BagIt manifest (RFC 8493 §2.1.3; %-encoded names decoded).

    Lines that are not ``<digest> <path>`` are skipped; the fixity and completeness checks then
    find the files they should have named.
    """
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, rel = line.strip().partition(" ")
        rel = rel.strip()
        if digest and rel:
            out[rel.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")] = digest
    return out


def _manifests(root: Path, prefix: str) -> dict[str, Manifest]:
    found: dict[str, Manifest] = {}
    for p in sorted(root.glob(f"{prefix}-*.txt")):
        algorithm = p.stem[len(prefix) + 1 :].lower()
        if algorithm in hashlib.algorithms_available:
            found[p.name] = (algorithm, read_manifest_file(p))
    return found


@dataclass
class Inspection:
    """A package under verification, and what the checks learnt of it so far.

    Attributes:
        layout: the package.
        manifests: payload manifests by file name.
        tagmanifests: tag manifests by file name.
        sha256: relative path -> SHA-256 as computed by ``verify`` (never taken from the package).
        identified: relative path -> what the file is, by content.
        formats: how many payload files of each format (``originals.<format>`` for originals).
    """

    layout: PackageLayout
    manifests: dict[str, Manifest]
    tagmanifests: dict[str, Manifest]
    sha256: dict[str, str] = field(default_factory=dict)
    identified: dict[str, Identified] = field(default_factory=dict)
    formats: Counter[str] = field(default_factory=Counter)

    @classmethod
    def open(cls, layout: PackageLayout) -> Inspection:
        """Read the package's manifests (nothing else)."""
        return cls(layout, _manifests(layout.root, "manifest"), _manifests(layout.root, "tagmanifest"))

    def safe(self, rel: str) -> bool:
        """Return whether a path a manifest names stays inside the bag."""
        resolved = (self.layout.root / rel).resolve()
        return resolved.is_relative_to(self.layout.root.resolve()) and not Path(rel).is_absolute()
