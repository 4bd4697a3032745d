"""Writing BagIt bags (RFC 8493) with SHA-256 manifests, deterministically.

Written here rather than with bagit-python's ``make_bag`` because that moves files and changes
the process's working directory; the bag is still checked with bagit-python (an independent
implementation) by ``validate`` and the tests.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Return the SHA-256 (hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _encode_path(rel: str) -> str:
    return rel.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def payload_files(bag_dir: Path) -> list[Path]:
    """Return every file under ``data/``, sorted by path."""
    return sorted((p for p in (bag_dir / "data").rglob("*") if p.is_file()), key=lambda p: p.as_posix())


def write_manifest(bag_dir: Path) -> tuple[int, int]:
    """Write ``manifest-sha256.txt`` for the payload; return (bytes, files) for Payload-Oxum."""
    total = 0
    lines = []
    files = payload_files(bag_dir)
    for p in files:
        rel = p.relative_to(bag_dir).as_posix()
        lines.append(f"{sha256_file(p)}  {_encode_path(rel)}\n")
        total += p.stat().st_size
    (bag_dir / "manifest-sha256.txt").write_text("".join(lines), encoding="utf-8")
    return total, len(files)


def write_bag_info(bag_dir: Path, info: dict[str, str], oxum: tuple[int, int]) -> None:
    """Write ``bag-info.txt`` (labels sorted; Payload-Oxum and Bagging-Date added)."""
    fields = dict(info)
    fields["Payload-Oxum"] = f"{oxum[0]}.{oxum[1]}"
    fields.setdefault("Bagging-Date", datetime.now(UTC).date().isoformat())
    text = "".join(f"{k}: {' '.join(str(v).splitlines())}\n" for k, v in sorted(fields.items()))
    (bag_dir / "bag-info.txt").write_text(text, encoding="utf-8")


def write_tagmanifest(bag_dir: Path) -> None:
    """Write ``tagmanifest-sha256.txt`` over every tag file (all files outside data/)."""
    lines = []
    for p in sorted(bag_dir.rglob("*"), key=lambda p: p.as_posix()):
        rel = p.relative_to(bag_dir).as_posix()
        if not p.is_file() or rel.startswith("data/") or rel.startswith("tagmanifest-"):
            continue
        lines.append(f"{sha256_file(p)}  {_encode_path(rel)}\n")
    (bag_dir / "tagmanifest-sha256.txt").write_text("".join(lines), encoding="utf-8")


def seal_bag(bag_dir: Path, info: dict[str, str], tag_files: dict[str, bytes]) -> None:
    """Turn a folder whose payload is already in ``data/`` into a complete bag.

    Args:
        bag_dir: the bag root; ``data/`` must exist.
        info: bag-info.txt labels.
        tag_files: extra tag files (relative path -> content), e.g. the audit record.
    """
    (bag_dir / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    oxum = write_manifest(bag_dir)
    write_bag_info(bag_dir, info, oxum)
    for rel, content in tag_files.items():
        target = bag_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    write_tagmanifest(bag_dir)


def read_manifest(bag_dir: Path, name: str = "manifest-sha256.txt") -> dict[str, str]:
    """Return path -> digest from a manifest file."""
    out: dict[str, str] = {}
    text = (bag_dir / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            digest, _, rel = line.partition(" ")
            out[rel.strip().replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")] = digest
    return out
