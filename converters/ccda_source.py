"""The C-CDA reader (``--system ccda``): CDA R2 / C-CDA documents as virtual tables.

Each file is parsed once (tolerantly, see ``converters.ccda_xml``) into: one ``ccda_document``
record (the header; the whole file kept byte for byte as a message original), one ``ccda_patient``
record, one ``ccda_section`` record per section (its narrative as plain text), records of the entry
tables per entry item (``converters.ccda_entries``) and one ``ccda_attachment`` record per
nonXMLBody or observationMedia. A file that is not XML at all is one unreadable ``ccda_document``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from converters.ccda_attachments import attachment_elements, attachment_values
from converters.ccda_entries import Context, read_section, sections
from converters.ccda_header import document_id, document_values, patient_values
from converters.ccda_tables import record_tables
from converters.ccda_xml import UTF8_BOM, read_cda
from converters.kith_originals import verbatim_text
from converters.message_source import Emit, MessageReader

STANDARD = "HL7 CDA R2 (C-CDA)"
SNIFF_BYTES = 8192
_FRAGMENT = re.compile(rb"^\s*<section[\s>]", re.MULTILINE)
SYSTEM_KEYS = ("code_system", "value_system", "product_system", "reaction_system", "interpretation_system")


class CcdaReader(MessageReader):
    """CDA R2 documents (C-CDA R1.1/R2.1: CCD, referral, discharge summary, notes, unstructured documents)."""

    name: ClassVar[str] = "ccda"
    title: ClassVar[str] = "C-CDA / CDA R2 documents (CCD, referral note, discharge summary, unstructured document)"
    reads: ClassVar[str] = "a .xml file or a folder of CDA documents (.xml/.cda/.ccd/.ccda)"
    default_mapping: ClassVar[str | None] = "ccda"
    record_tables: ClassVar[dict[str, tuple[str, ...]]] = record_tables()
    file_suffixes: ClassVar[tuple[str, ...]] = (".xml", ".cda", ".ccd", ".ccda")

    def __init__(self) -> None:
        super().__init__()
        self._seen_ids: set[str] = set()

    def accepts(self, path: Path | str) -> bool:
        """Accept a CDA file, or a folder with at least one file that looks like a ClinicalDocument."""
        p = Path(path)
        if p.is_file():
            return p.suffix.lower() in self.file_suffixes and _looks_like_cda(p)
        if not p.is_dir():
            return False
        return any(
            c.is_file() and c.suffix.lower() in self.file_suffixes and _looks_like_cda(c) for c in sorted(p.rglob("*"))
        )

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Emit the records of one CDA file (never raises for bad content)."""
        root_dir = path
        for _ in Path(rel).parts:
            root_dir = root_dir.parent
        extract_file(rel, data, emit, source_file=path, source_root=root_dir, seen_ids=self._seen_ids)


def extract_file(
    rel: str, data: bytes, emit: Emit, *, source_file: Path, source_root: Path, seen_ids: set[str]
) -> None:
    """Emit every record of one CDA file.

    Args:
        rel: the file's path relative to the source (used in every reference).
        data: the file's bytes (kept whole as the original).
        emit: where records, originals, problems and deviations go.
        source_file: the file itself (referenced attachments are looked up beside it).
        source_root: the source folder (no referenced file outside it is read).
        seen_ids: document ids met so far in this run (a repeat is a deviation).
    """
    parsed = read_cda(data)
    if parsed is None:
        emit.problem(
            "ccda_document",
            f"{rel}#",
            reason="unparseable_record",
            rule="CDA R2: a document is an XML ClinicalDocument; the file holds no readable XML",
            raw=data,
        )
        return
    for where, message in parsed.findings:
        emit.deviation(f"{rel}#", standard=STANDARD, element_path=where, message=message)
    root = parsed.root
    if root.tag != "ClinicalDocument":
        emit.deviation(
            f"{rel}#",
            standard=STANDARD,
            element_path=f"/{root.tag}",
            message=f"the file is a bare <{root.tag}> fragment, not a ClinicalDocument: it has no header or patient",
        )
    doc_id = document_id(root)
    if root.tag == "ClinicalDocument":
        _header_findings(rel, root, doc_id, seen_ids, emit)
    patient = patient_values(root, doc_id, rel) if root.tag == "ClinicalDocument" else None
    key = patient["patient_key"] if patient else None
    if patient is not None:
        emit.record("ccda_patient", f"{rel}#recordTarget", patient)
    doc = document_values(root, doc_id, key)
    if key:
        stored = emit.original(data, kind="messages", suffix=".xml")
        doc.update({"original_path": stored.path, "original_sha256": stored.sha256, "original_size": str(stored.size)})
    else:
        doc["xml"] = verbatim_text(data.removeprefix(UTF8_BOM))
    emit.record("ccda_document", f"{rel}#", doc)
    ctx = Context(key, doc_id, doc.get("effective_ts"))
    entry_ids: set[str] = set()
    repeats: list[str] = []
    for index, section in enumerate(sections(root), start=1):
        found = read_section(index, section, ctx)
        emit.record("ccda_section", f"{rel}#section={index}", found.values)
        if not found.values.get("template_ids"):
            emit.deviation(
                f"{rel}#section={index}",
                standard=STANDARD,
                element_path="section/templateId",
                message=f"the section has no templateId; its kind ({found.values['kind']}) comes from its code",
            )
        for table, suffix, values in found.entries:
            ref = f"{rel}#{suffix}"
            _entry_findings(ref, values, entry_ids, repeats, emit)
            emit.record(table, ref, values)
    if repeats:
        emit.deviation(
            f"{rel}#",
            standard=STANDARD,
            element_path="entry/id",
            message=f"{len(repeats)} entry item(s) repeat an earlier entry's id in this document (first: {repeats[0]})",
        )
    for k, (location, element) in enumerate(attachment_elements(root), start=1):
        values, problem = attachment_values(
            element, location, source_file=source_file, source_root=source_root, keep=emit if key else None
        )
        values.update(
            {
                "patient_key": key,
                "document_id": doc_id,
                "document_ts": doc.get("effective_ts"),
                "attachment_index": str(k),
            }
        )
        values["title"] = doc.get("title")
        if problem:
            emit.deviation(f"{rel}#attachment={k}", standard=STANDARD, element_path=location, message=problem)
        emit.record("ccda_attachment", f"{rel}#attachment={k}", values)


def _header_findings(rel: str, root: object, doc_id: str | None, seen_ids: set[str], emit: Emit) -> None:
    from converters.ccda_xml import first, template_ids

    ref = f"{rel}#"
    if not template_ids(root):
        emit.deviation(ref, standard=STANDARD, element_path="/ClinicalDocument/templateId", message="no templateId")
    if doc_id is None:
        emit.deviation(ref, standard=STANDARD, element_path="/ClinicalDocument/id", message="the document has no id")
    elif doc_id in seen_ids:
        emit.deviation(
            ref,
            standard=STANDARD,
            element_path="/ClinicalDocument/id",
            message="the document id repeats an earlier document's id",
        )
    else:
        seen_ids.add(doc_id)
    if first(root, "recordTarget", "patientRole") is None:
        emit.deviation(ref, standard=STANDARD, element_path="/ClinicalDocument/recordTarget", message="no recordTarget")


def _entry_findings(
    ref: str, values: dict[str, str | None], entry_ids: set[str], repeats: list[str], emit: Emit
) -> None:
    item_id = values.get("item_id")
    if item_id:
        if item_id in entry_ids:
            repeats.append(ref.split("#", 1)[1])
        entry_ids.add(item_id)
    for key in SYSTEM_KEYS:
        system = values.get(key)
        if system and not system.startswith(("http", "urn:")):
            emit.deviation(
                ref, standard=STANDARD, element_path=f"entry/{key}", message=f"codeSystem {system!r} is not an OID"
            )


def _looks_like_cda(path: Path) -> bool:
    """Whether the file's first bytes hold a ClinicalDocument (or a CDA section fragment)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    return b"ClinicalDocument" in head or b"urn:hl7-org:v3" in head or _FRAGMENT.search(head) is not None
