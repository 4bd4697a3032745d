"""The mapping document: what a mapping does with every source table and column, for people.

``mapping_document`` builds a frozen tree from a loaded mapping (plus, optionally, the source's
column names and a ledger); ``render_markdown`` and ``render_html`` turn it into text, in English
(``en``) or Norwegian bokmål (``nb``). ``write_mapping_doc`` is a pipeline finisher that writes
``data/mappings/<mapping stem>.md`` and ``.html`` beside the mapping copy. Output is deterministic.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from converters.mapping import Condition, Lookup, Mapping, TableMapping, ValueRule, load_mapping
from formats.model import TABLES
from formats.package import MAPPINGS_DIR, PackageLayout

__all__ = [
    "LABELS", "ColumnDoc", "Coverage", "FieldDoc", "FilterUse", "MappingDocSource", "MappingDocument", "TableCounts",
    "TableDoc", "TargetDoc",
    "mapping_document", "render_html", "render_markdown", "write_mapping_doc",
]

FATES = ("source_rows", "converted", "preserved", "rejected", "excluded")
MAP_ENTRIES_SHOWN = 10


@dataclass(frozen=True)
class FieldDoc:
    """One canonical field a value rule fills: where from and how."""

    table: str
    field: str
    description: str
    rule: ValueRule


@dataclass(frozen=True)
class FilterUse:
    """A column used to select rows: a target's ``where`` (``what`` = canonical table) or an exclude (reason)."""

    kind: str
    condition: Condition
    what: str


@dataclass(frozen=True)
class ColumnDoc:
    """One source column and its fate.

    ``fate`` is ``converted`` (fills fields), ``filter``, ``condition`` (only gates values with
    ``when``), ``patient`` (only the patient key), ``dropped`` or ``preserved`` (not consumed).
    """

    name: str
    fate: str
    fills: tuple[FieldDoc, ...] = ()
    conditions: tuple[str, ...] = ()
    filters: tuple[FilterUse, ...] = ()
    lookups: tuple[tuple[str, str], ...] = ()
    patient_key: bool = False
    drop_reason: str = ""
    missing: bool = False


@dataclass(frozen=True)
class TargetDoc:
    """A canonical table that rows of the source table become."""

    table: str
    where: Condition | None


@dataclass(frozen=True)
class TableCounts:
    """The ledger's arithmetic for one source table."""

    source_rows: int
    converted: int
    preserved: int
    rejected: int
    excluded: int
    written: tuple[tuple[str, int], ...] = ()
    reasons: tuple[tuple[str, int], ...] = ()
    flags: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TableDoc:
    """One source table: its fate rule, its columns, its constants and (given a ledger) its counts."""

    name: str
    file: str
    description: str
    in_mapping: bool
    targets: tuple[TargetDoc, ...] = ()
    preserve_reason: str = ""
    excludes: tuple[tuple[Condition, str], ...] = ()
    unmatched: str = "preserve"
    patient: str | None = None
    key: str | None = None
    columns: tuple[ColumnDoc, ...] = ()
    constants: tuple[FieldDoc, ...] = ()
    counts: TableCounts | None = None
    missing: bool = False

    def column(self, name: str) -> ColumnDoc | None:
        """Return the column called ``name``, if listed."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Coverage:
    """Counts over the whole document (columns missing from the source are not counted)."""

    tables_mapped: int
    tables_preserved: int
    columns_consumed: int
    columns_preserved: int
    columns_dropped: int


@dataclass(frozen=True)
class MappingDocument:
    """What a mapping does with every source table and column."""

    system: str
    title: str
    description: str
    mapping_file: str
    sha256: str
    columns_from_source: bool
    tables: tuple[TableDoc, ...]
    canonical: tuple[tuple[str, int | None], ...]
    coverage: Coverage

    def table(self, name: str) -> TableDoc | None:
        """Return the source table called ``name``, if listed."""
        return next((t for t in self.tables if t.name == name), None)


def _description(table: str, name: str) -> str:
    spec = TABLES.get(table)
    return next((f.description for f in spec.fields if f.name == name), "") if spec else ""


@dataclass
class _Uses:
    fills: list[FieldDoc] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    filters: list[FilterUse] = field(default_factory=list)
    lookups: list[tuple[str, str]] = field(default_factory=list)


def _scan(mapping: Mapping) -> dict[str, dict[str, _Uses]]:
    """Return, per source table, every column the mapping names (in order of mention) and its uses."""
    out: dict[str, dict[str, _Uses]] = {t.name: {} for t in mapping.tables}

    def use(table: str, column: str) -> _Uses:
        return out.setdefault(table, {}).setdefault(column, _Uses())

    for tm in mapping.tables:
        if tm.patient:
            use(tm.name, tm.patient)
        for target in tm.targets:
            for fr in target.fields:
                doc = FieldDoc(target.table, fr.target, _description(target.table, fr.target), fr.rule)
                for col in ((fr.rule.column,) if fr.rule.column else ()) + fr.rule.concat:
                    use(tm.name, col).fills.append(doc)
                if fr.rule.when:
                    use(tm.name, fr.rule.when.column).conditions.append(f"{target.table}.{fr.target}")
                lk = fr.rule.lookup
                if lk:
                    for col, role in ((lk.key, "key"), (lk.value, "value")):
                        use(lk.table, col).lookups.append((role, f"{tm.name} → {target.table}.{fr.target}"))
            if target.where:
                use(tm.name, target.where.column).filters.append(FilterUse("where", target.where, target.table))
        for ex in tm.excludes:
            use(tm.name, ex.where.column).filters.append(FilterUse("exclude", ex.where, ex.reason))
        for col, _ in tm.drop_columns:
            use(tm.name, col)
    return out


def _column(name: str, uses: _Uses | None, tm: TableMapping | None, *, missing: bool) -> ColumnDoc:
    uses = uses or _Uses()
    is_patient = tm is not None and tm.patient == name
    drop = dict(tm.drop_columns).get(name, "") if tm else ""
    fate = (
        "converted" if uses.fills else "filter" if uses.filters else "condition" if uses.conditions
        else "patient" if is_patient else "dropped" if drop else "preserved"
    )
    return ColumnDoc(
        name, fate, tuple(uses.fills), tuple(uses.conditions), tuple(uses.filters), tuple(uses.lookups),
        is_patient, drop, missing,
    )


def _pairs(value: object) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((str(k), _int(v)) for k, v in value.items())) if isinstance(value, dict) else ()


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _counts(ledger: AnyMapping[str, object] | None) -> dict[str, TableCounts]:
    rows = ledger.get("tables") if ledger else None
    out: dict[str, TableCounts] = {}
    for t in rows if isinstance(rows, list) else []:
        if isinstance(t, dict) and isinstance(t.get("source_table"), str):
            out[t["source_table"]] = TableCounts(
                source_rows=_int(t.get("source_rows")), converted=_int(t.get("converted")),
                preserved=_int(t.get("preserved")), rejected=_int(t.get("rejected")), excluded=_int(t.get("excluded")),
                written=_pairs(t.get("targets")), reasons=_pairs(t.get("reasons")), flags=_pairs(t.get("flags")),
            )
    return out


def mapping_document(
    mapping: Mapping, *, source_columns: dict[str, list[str]] | None = None, ledger: dict[str, object] | None = None
) -> MappingDocument:
    """Describe what ``mapping`` does with every source table and column.

    Args:
        mapping: the loaded mapping.
        source_columns: the source's column names per table (keys: table names, or a mapped table's
            file name). Given, every source column is listed, and tables the mapping does not name
            are listed as preserved raw; else only the columns the mapping names are listed.
        ledger: ``Ledger.to_dict()`` or a package's ``data/ledger/summary.json``: adds the counts.
            Tables it knows that the mapping does not name are listed as preserved raw.

    Returns:
        The document: tables in mapping order, then the others by name.
    """
    uses = _scan(mapping)
    counts = _counts(ledger)
    given: dict[str, list[str]] = {}
    for key, names in (source_columns or {}).items():
        tm = mapping.table(key) or next((t for t in mapping.tables if t.file == key), None)
        given[tm.name if tm else key] = list(names)
    tables: list[TableDoc] = []
    for tm in mapping.tables:
        named = uses.get(tm.name, {})
        present = given.get(tm.name)
        names = list(present or []) + [c for c in named if present is None or c not in present]
        columns = tuple(_column(c, named.get(c), tm, missing=present is not None and c not in present) for c in names)
        tally = counts.get(tm.name)
        lacks = bool(tally and dict(tally.flags).get("missing_table"))
        lacks = lacks or (source_columns is not None and present is None)
        constants = tuple(
            FieldDoc(t.table, fr.target, _description(t.table, fr.target), fr.rule)
            for t in tm.targets for fr in t.fields if fr.rule.constant is not None
        )
        tables.append(
            TableDoc(
                tm.name, tm.file, tm.description, True, tuple(TargetDoc(t.table, t.where) for t in tm.targets),
                tm.preserve_reason, tuple((e.where, e.reason) for e in tm.excludes), tm.unmatched, tm.patient,
                tm.key, columns, constants, tally, lacks,
            )
        )
    others = sorted((set(given) | set(counts)) - {t.name for t in mapping.tables})
    for name in others:
        raw = tuple(_column(c, None, None, missing=False) for c in given.get(name, []))
        tables.append(TableDoc(name, name, "", False, columns=raw, counts=counts.get(name)))
    rows = dict(_pairs(ledger.get("categories"))) if ledger else {}
    filled = dict.fromkeys(t.table for tm in mapping.tables for t in tm.targets)
    canonical = tuple((name, rows.get(name, 0) if ledger else None) for name in filled)
    listed = [c for t in tables for c in t.columns if not c.missing]
    coverage = Coverage(
        tables_mapped=sum(1 for t in tables if t.targets),
        tables_preserved=sum(1 for t in tables if not t.targets),
        columns_consumed=sum(1 for c in listed if c.fate not in ("dropped", "preserved")),
        columns_preserved=sum(1 for c in listed if c.fate == "preserved"),
        columns_dropped=sum(1 for c in listed if c.fate == "dropped"),
    )
    return MappingDocument(
        mapping.system, mapping.title, mapping.description.strip(), mapping.path.name, mapping.sha256,
        source_columns is not None, tuple(tables), canonical, coverage,
    )


LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Mapping: {0}", "meta": "Source system {0}; mapping file {1}; SHA-256 {2}.",
        "from_source": "Every column of the source is listed, with what becomes of it.",
        "from_mapping": "The source was not read: only the columns the mapping names are listed.",
        "coverage": "Coverage", "tables_mapped": "source tables converted",
        "tables_preserved": "source tables preserved raw", "columns_consumed": "columns consumed",
        "columns_preserved": "columns preserved raw (not consumed)", "columns_dropped": "columns dropped",
        "canonical": "canonical tables filled", "fate": "Fate", "converted_to": "converted to {0}",
        "preserved_raw": "preserved raw: {0}", "unmapped": "not in the mapping: preserved raw",
        "missing_table": "the source has no such table", "rows_where": "rows where {0}", "patient": "Patient column",
        "key": "Key column", "exclude": "Excluded: rows where {0}: {1}", "unmatched": "Rows no target selects: {0}",
        "preserve": "preserved raw", "ledger": "Ledger", "source_rows": "source rows", "converted": "converted",
        "preserved": "preserved", "rejected": "rejected", "excluded": "excluded", "written": "rows written",
        "reasons": "reasons", "flags": "flags", "columns": "Columns", "no_columns": "No columns are known.",
        "constants": "Constants", "fills": "fills {0}", "filter": "filter only (where/exclude)",
        "condition": "condition only (when)", "patient_only": "patient key only", "dropped": "dropped: {0}",
        "preserved_col": "preserved raw (not consumed)", "missing": "missing from the source",
        "patient_key": "patient key of the table", "is_condition": "condition (when) for {0}",
        "where_of": "filter (where) of {0}: {1}", "exclude_by": "filter (exclude): {0}: {1}",
        "lookup_key": "lookup key for {0}", "lookup_value": "looked-up value for {0}",
        "concat": "concatenation of {0}, separator {1}", "constant": "constant {0}", "format": "format {0}",
        "formats": "formats {0}", "timezone": "time zone {0}", "map": "map with {0} entries", "lookup": "lookup {0}",
        "on_unknown": "unknown values: {0}", "when": "when {0}", "required": "required", "trim": "trimmed",
        "equals": "{0} = {1}", "in": "{0} is one of {1}", "not_in": "{0} is not one of {1}", "empty": "{0} is empty",
        "not_empty": "{0} is not empty",
    },
    "nb": {
        "title": "Tilordning: {0}", "meta": "Kildesystem {0}; tilordningsfil {1}; SHA-256 {2}.",
        "from_source": "Alle kolonnene i kilden er listet, med hva som skjer med dem.",
        "from_mapping": "Kilden er ikke lest: bare kolonnene tilordningen nevner, er listet.",
        "coverage": "Dekning", "tables_mapped": "kildetabeller konvertert",
        "tables_preserved": "kildetabeller bevart rått", "columns_consumed": "kolonner brukt",
        "columns_preserved": "kolonner bevart rått (ikke brukt)", "columns_dropped": "kolonner fjernet",
        "canonical": "kanoniske tabeller fylt", "fate": "Behandling", "converted_to": "konvertert til {0}",
        "preserved_raw": "bevart rått: {0}", "unmapped": "ikke i tilordningen: bevart rått",
        "missing_table": "kilden har ingen slik tabell", "rows_where": "rader der {0}", "patient": "Pasientkolonne",
        "key": "Nøkkelkolonne", "exclude": "Ekskludert: rader der {0}: {1}",
        "unmatched": "Rader ingen mål velger: {0}", "preserve": "bevart rått", "ledger": "Regnskap",
        "source_rows": "kilderader", "converted": "konvertert", "preserved": "bevart", "rejected": "avvist",
        "excluded": "ekskludert", "written": "rader skrevet", "reasons": "årsaker", "flags": "merknader",
        "columns": "Kolonner", "no_columns": "Ingen kolonner er kjent.", "constants": "Konstanter",
        "fills": "fyller {0}", "filter": "bare filter (where/exclude)", "condition": "bare betingelse (when)",
        "patient_only": "bare pasientnøkkel", "dropped": "fjernet: {0}", "preserved_col": "bevart rått (ikke brukt)",
        "missing": "mangler i kilden", "patient_key": "tabellens pasientnøkkel",
        "is_condition": "betingelse (when) for {0}", "where_of": "filter (where) for {0}: {1}",
        "exclude_by": "filter (exclude): {0}: {1}", "lookup_key": "oppslagsnøkkel for {0}",
        "lookup_value": "oppslagsverdi for {0}", "concat": "sammenslåing av {0}, skilletegn {1}",
        "constant": "konstant {0}", "format": "format {0}", "formats": "formater {0}", "timezone": "tidssone {0}",
        "map": "oversettelsestabell med {0} verdier", "lookup": "oppslag {0}", "on_unknown": "ukjente verdier: {0}",
        "when": "når {0}", "required": "påkrevd", "trim": "trimmet", "equals": "{0} = {1}", "in": "{0} er en av {1}",
        "not_in": "{0} ikke er en av {1}", "empty": "{0} er tom", "not_empty": "{0} ikke er tom",
    },
}
"""Every label, in English and Norwegian bokmål."""


class _Words:
    """Labels of one language, with text escaped for one markup (Markdown or HTML)."""

    def __init__(self, lang: str, *, as_html: bool) -> None:
        if lang not in LABELS:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(sorted(LABELS))}")
        self.labels = LABELS[lang]
        self.as_html = as_html

    def __call__(self, key: str, *args: str) -> str:
        """Return label ``key`` with ``args`` (already rendered) filled in."""
        return self.t(self.labels[key]).format(*args)

    def t(self, text: str) -> str:
        """Return free text, escaped (in Markdown: on one line, with its markup characters escaped)."""
        if self.as_html:
            return html.escape(text)
        return "".join("\\" + ch if ch in "\\`*<|" else ch for ch in " ".join(text.split()))

    def c(self, text: str) -> str:
        """Return a literal (a name or value) as code."""
        if self.as_html:
            return f"<code>{html.escape(text)}</code>"
        return f"`` {text} ``" if "`" in text else f"`{text}`"

    def cond(self, c: Condition) -> str:
        """Return a condition in words."""
        if c.op == "empty":
            return self("empty" if c.values[0].lower() == "true" else "not_empty", self.c(c.column))
        vals = self.c(c.values[0]) if c.op == "equals" else self.t("[") + ", ".join(map(self.c, c.values)) + self.t("]")
        return self(c.op, self.c(c.column), vals)

    def lookup(self, lk: Lookup) -> str:
        """Return a lookup as ``table: key → value``."""
        return self.c(f"{lk.table}: {lk.key} → {lk.value}")

    def rule(self, r: ValueRule) -> str:
        """Return how a value rule computes its value (beyond naming its column)."""
        parts = [self("constant", self.c(r.constant))] if r.constant is not None else []
        if r.concat:
            parts.append(self("concat", " + ".join(map(self.c, r.concat)), self.c(f'"{r.separator}"')))
        if r.formats:
            parts.append(self("formats" if len(r.formats) > 1 else "format", ", ".join(map(self.c, r.formats))))
        if pa.types.is_timestamp(r.target_type):
            parts.append(self("timezone", self.c(r.timezone)))
        if r.mapping is not None:
            entries = [f"{k} → {'null' if v is None else v}" for k, v in r.mapping]
            shown = f" ({', '.join(map(self.c, entries))})" if len(entries) <= MAP_ENTRIES_SHOWN else ""
            parts.append(self("map", str(len(entries))) + shown)
        if r.lookup:
            parts.append(self("lookup", self.lookup(r.lookup)))
        if r.mapping is not None or r.lookup:
            parts.append(self("on_unknown", self.c(r.on_unknown)))
        parts += [self("when", self.cond(r.when))] if r.when else []
        return "; ".join(parts + [self(k) for k in ("required", "trim") if getattr(r, k)])

    def field(self, fd: FieldDoc) -> str:
        """Return a canonical field, its description and its rule."""
        text = self.c(f"{fd.table}.{fd.field}") + (f" ({self.t(fd.description)})" if fd.description else "")
        how = self.rule(fd.rule)
        return f"{text} — {how}" if how else text


def _column_item(w: _Words, c: ColumnDoc) -> tuple[str, list[str]]:
    uses = [w("fills", w.field(fd)) for fd in c.fills]
    uses += [w("is_condition", w.c(x)) for x in c.conditions]
    for fu in c.filters:
        if fu.kind == "where":
            uses.append(w("where_of", w.c(fu.what), w.cond(fu.condition)))
        else:
            uses.append(w("exclude_by", w.cond(fu.condition), w.t(fu.what)))
    uses += [w("patient_key")] if c.patient_key else []
    uses += [w(f"lookup_{role}", w.c(what)) for role, what in c.lookups]
    fate = {
        "converted": "", "filter": w("filter"), "condition": w("condition"), "patient": w("patient_only"),
        "dropped": w("dropped", w.t(c.drop_reason)), "preserved": w("preserved_col"),
    }[c.fate]
    if not fate and len(uses) == 1:
        fate, uses = uses[0], []
    head = w.c(c.name) + ": " + (fate or w("converted")) + (f" ({w('missing')})" if c.missing else "")
    return head, uses


_Block = tuple[str, str, list[tuple[str, list[str]]]]


def _blocks(doc: MappingDocument, w: _Words) -> Iterator[_Block]:
    """Yield the document as neutral blocks: (h1|h2|h3|p, text, []) or (ul|kv, "", items)."""
    yield "h1", w("title", w.t(doc.title)), []
    yield "p", w("meta", w.c(doc.system), w.c(doc.mapping_file), w.c(doc.sha256)), []
    if doc.description:
        yield "p", w.t(doc.description), []
    yield "p", w("from_source" if doc.columns_from_source else "from_mapping"), []
    yield "h2", w("coverage"), []
    kv = [(w(f.name), [str(getattr(doc.coverage, f.name))]) for f in fields(Coverage)]
    filled = [w.c(n) + ("" if rows is None else f" ({rows})") for n, rows in doc.canonical]
    yield "kv", "", [*kv, (w("canonical"), [", ".join(filled)])]
    for t in doc.tables:
        yield "h2", w.c(t.name) + ("" if t.file == t.name else f" ({w.c(t.file)})"), []
        if t.description:
            yield "p", w.t(t.description), []
        if t.targets:
            targets = [w.c(x.table) + (f" ({w('rows_where', w.cond(x.where))})" if x.where else "") for x in t.targets]
            fate = w("converted_to", ", ".join(targets))
        else:
            fate = w("preserved_raw", w.t(t.preserve_reason)) if t.in_mapping else w("unmapped")
        facts = [f"{w('fate')}: {fate}" + (f" ({w('missing_table')})" if t.missing else "")]
        facts += [f"{w('patient')}: {w.c(t.patient)}"] if t.patient else []
        facts += [f"{w('key')}: {w.c(t.key)}"] if t.key else []
        facts += [w("exclude", w.cond(cond), w.t(reason)) for cond, reason in t.excludes]
        if t.targets and all(x.where for x in t.targets):
            facts.append(w("unmatched", w("preserve" if t.unmatched == "preserve" else "excluded")))
        if t.counts:
            n = t.counts
            fates = ", ".join(f"{w(k)} {getattr(n, k)}" for k in FATES)
            extra = (("written", n.written), ("reasons", n.reasons), ("flags", n.flags))
            fates += "".join(f"; {w(k)}: " + ", ".join(f"{w.c(a)} {b}" for a, b in ps) for k, ps in extra if ps)
            facts.append(f"{w('ledger')}: {fates}")
        yield "ul", "", [(x, []) for x in facts]
        yield "h3", w("columns"), []
        yield ("ul", "", [_column_item(w, c) for c in t.columns]) if t.columns else ("p", w("no_columns"), [])
        if t.constants:
            yield "h3", w("constants"), []
            yield "ul", "", [(w.field(fd), []) for fd in t.constants]


def render_markdown(doc: MappingDocument, lang: str = "en") -> str:
    """Return the document as Markdown (``lang``: ``en`` or ``nb``), ending in a newline."""
    out: list[str] = []
    for kind, text, items in _blocks(doc, _Words(lang, as_html=False)):
        if kind in ("h1", "h2", "h3"):
            out += ["#" * int(kind[1]) + f" {text}", ""]
        elif kind == "p":
            out += [text, ""]
        elif kind == "kv":
            out += ["| | |", "|---|---|", *(f"| {k} | {' '.join(v)} |" for k, v in items), ""]
        else:
            for head, children in items:
                out += [f"- {head}", *(f"  - {x}" for x in children)]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1d1d1f;line-height:1.4}
h2{margin-top:2rem;border-bottom:1px solid #d0d0d7}h3{font-size:1rem}table{border-collapse:collapse}
td{border:1px solid #d0d0d7;padding:.2rem .5rem}code{background:#f2f2f6;padding:0 .2rem}li{margin:.15rem 0}"""


def render_html(doc: MappingDocument, lang: str = "en") -> str:
    """Return the document as one self-contained HTML page (no scripts, nothing loaded; all text escaped)."""
    w = _Words(lang, as_html=True)
    out = [
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">',
        f"<title>{w('title', w.t(doc.title))}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>",
    ]
    for kind, text, items in _blocks(doc, w):
        if kind in ("h1", "h2", "h3", "p"):
            out.append(f"<{kind}>{text}</{kind}>")
        elif kind == "kv":
            rows = "".join(f"<tr><td>{k}</td><td>{' '.join(v)}</td></tr>" for k, v in items)
            out.append(f"<table>{rows}</table>")
        else:
            lis = [f"<li>{h}" + (f"<ul>{''.join(f'<li>{x}</li>' for x in ch)}</ul>" if ch else "") + "</li>"
                   for h, ch in items]
            out.append("<ul>\n" + "\n".join(lis) + "\n</ul>")
    return "\n".join([*out, "</body>\n</html>"]) + "\n"


class _Tally(Protocol):
    def to_dict(self) -> dict[str, object]: ...


class MappingDocSource(Protocol):
    """What ``write_mapping_doc`` needs of a conversion result (``ConversionResult`` has it)."""

    @property
    def mapping_file(self) -> str:
        """The mapping's file name under ``data/mappings/``."""

    @property
    def ledger(self) -> _Tally:
        """The ledger (with ``to_dict``)."""


def write_mapping_doc(layout: PackageLayout, result: MappingDocSource, *, lang: str = "en") -> None:
    """Write ``data/mappings/<mapping stem>.md`` and ``.html``: the mapping documented, with the ledger's counts.

    A pipeline finisher (``run_conversion(..., finishers=[write_mapping_doc])``). The source's
    columns are not known here: the columns the mapping names are documented. Does nothing when the
    result names no mapping file.
    """
    if not result.mapping_file:
        return
    folder = layout.dir(MAPPINGS_DIR)
    mapping_file = folder / result.mapping_file
    doc = mapping_document(load_mapping(mapping_file), ledger=result.ledger.to_dict())
    stem = Path(result.mapping_file).stem
    (folder / f"{stem}.md").write_text(render_markdown(doc, lang), encoding="utf-8")
    (folder / f"{stem}.html").write_text(render_html(doc, lang), encoding="utf-8")
