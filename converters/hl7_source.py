"""The HL7 v2 reader (``--system hl7v2``): ER7 message files as virtual tables of segments."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from converters.hl7_message import BOM
from converters.hl7_records import extract_file
from converters.hl7_tables import record_tables
from converters.message_source import Emit, MessageReader

SNIFF_BYTES = 4096


class Hl7v2Reader(MessageReader):
    """HL7 v2.x messages in ER7 (pipe-and-hat) encoding: one or many messages per file, batches too."""

    name: ClassVar[str] = "hl7v2"
    title: ClassVar[str] = "HL7 v2 messages (ER7: ADT, ORU, ORM/OML, SIU, RDE/RAS, VXU, MDM, ...)"
    reads: ClassVar[str] = "a .hl7 file or a folder of .hl7/.txt/.er7/.msg files, one or many messages each"
    default_mapping: ClassVar[str | None] = "hl7v2"
    record_tables: ClassVar[dict[str, tuple[str, ...]]] = record_tables()
    file_suffixes: ClassVar[tuple[str, ...]] = (".hl7", ".er7", ".hl7v2", ".txt", ".msg", ".dat")

    def accepts(self, path: Path | str) -> bool:
        """Accept an HL7 file, or a folder with at least one file that starts like an HL7 message."""
        p = Path(path)
        if p.is_file():
            return p.suffix.lower() in self.file_suffixes and _looks_like_hl7(p)
        if not p.is_dir():
            return False
        for child in sorted(p.rglob("*")):
            if child.is_file() and child.suffix.lower() in self.file_suffixes and _looks_like_hl7(child):
                return True
        return False

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Emit every message, segment and attachment of one file."""
        extract_file(rel, data, emit)


def _looks_like_hl7(path: Path) -> bool:
    """Whether the file begins (after a byte order mark and blank lines) with MSH, FHS or BHS."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    head = head.removeprefix(BOM).lstrip(b"\r\n\t ")
    return head[:3] in (b"MSH", b"FHS", b"BHS") and len(head) > 3 and not head[3:4].isalnum()
