"""Sections and entries of a C-CDA body -> records of ``ccda_section`` and the entry tables.

Each section (nested ones too, in document order) is one ``ccda_section`` record with its
narrative block as plain text. Each ``<entry>`` of a section becomes one or more records of the
table of the section's kind: one per item (the observations of a concern act or the components of
an organizer; the clinical statement itself otherwise). Negated statements (``negationInd="true"``)
are kept with ``negation = negated``; nullFlavors are kept in ``null_flavor``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from converters.ccda_tables import CONCERN_KINDS, ENTRY_TABLES, code_system_uri, section_kind
from converters.ccda_xml import XSI_TYPE, Element, attr, first, iso_time, kids, narrative_ids, narrative_text
from converters.ccda_xml import template_ids as tids
from converters.ccda_xml import text as text_of

Values = dict[str, str | None]
STATEMENTS = frozenset(
    {
        "act",
        "observation",
        "substanceAdministration",
        "supply",
        "procedure",
        "encounter",
        "organizer",
        "observationMedia",
        "regionOfInterest",
    }
)
REACTION_TEMPLATE = "2.16.840.1.113883.10.20.22.4.9"
SEVERITY_TEMPLATES = ("2.16.840.1.113883.10.20.22.4.8", "2.16.840.1.113883.10.20.22.4.145")
STATUS_TEMPLATES = ("2.16.840.1.113883.10.20.22.4.6", "2.16.840.1.113883.10.20.22.4.28")


@dataclass(frozen=True)
class SectionRecord:
    """One section as found: its record values and the entry records under it."""

    values: Values
    entries: list[tuple[str, str, Values]]
    """(table, reference suffix, values) of every item of every entry."""


@dataclass(frozen=True)
class Context:
    """What every record of one document shares."""

    patient_key: str | None
    document_id: str | None
    document_ts: str | None


def sections(root: Element) -> Iterator[Element]:
    """Yield every ``section`` element in document order (a bare fragment's root too)."""
    yield from root.iter("section")


def read_section(index: int, section: Element, ctx: Context) -> SectionRecord:
    """Return the records of one section and of its entries."""
    templates = tids(section)
    code_el = first(section, "code")
    code = attr(code_el, "code")
    kind = section_kind(templates, code)
    block = first(section, "text")
    refs = narrative_ids(block)
    entries_el = list(kids(section, "entry"))
    path = _section_path(section)
    values: Values = {
        "patient_key": ctx.patient_key,
        "document_id": ctx.document_id,
        "document_ts": ctx.document_ts,
        "section_index": str(index),
        "section_path": path,
        "kind": kind,
        "template_ids": " ".join(templates) or None,
        "code": code,
        "code_system": code_system_uri(attr(code_el, "codeSystem")),
        "code_display": attr(code_el, "displayName"),
        "title": text_of(section, "title"),
        "narrative_text": narrative_text(block),
        "entry_count": str(len(entries_el)),
        "null_flavor": attr(section, "nullFlavor"),
    }
    table = ENTRY_TABLES[kind]
    out: list[tuple[str, str, Values]] = []
    for e, entry in enumerate(entries_el, start=1):
        statement = next((c for c in entry if isinstance(c.tag, str) and c.tag in STATEMENTS), None)
        items = _items(kind, statement)
        for i, item in enumerate(items, start=1):
            row = _item_values(item, statement, entry, refs)
            row.update(
                {
                    "patient_key": ctx.patient_key,
                    "document_id": ctx.document_id,
                    "section_index": str(index),
                    "section_code": code,
                    "entry_index": str(e),
                    "item_index": str(i),
                }
            )
            out.append((table, f"section={index}/entry={e}/item={i}", row))
    return SectionRecord(values, out)


def _section_path(section: Element) -> str:
    names = []
    node = section
    while node is not None and isinstance(node.tag, str):
        if node.tag == "section":
            names.append(attr(node, "code", "code") or "section")
        node = node.getparent()
    return "/".join(reversed(names))


def _items(kind: str, statement: Element | None) -> list[Element | None]:
    """Return the items of one entry (never empty: an entry without a statement is one empty item)."""
    if statement is None:
        return [None]
    if statement.tag == "organizer":
        found = [c for comp in kids(statement, "component") for c in comp if isinstance(c.tag, str)]
        return list(found) or [statement]
    if statement.tag == "act" and kind in CONCERN_KINDS:
        found = [
            c
            for rel in kids(statement, "entryRelationship")
            for c in rel
            if isinstance(c.tag, str) and c.tag in ("observation", "act")
        ]
        return list(found) or [statement]
    return [statement]


def _coded(el: Element | None, refs: dict[str, str], prefix: str) -> Values:
    """code/system/display/original_text of a CD element (translation used when the code is null)."""
    if el is None:
        return {}
    code, system, display = attr(el, "code"), attr(el, "codeSystem"), attr(el, "displayName")
    if code is None:
        tr = first(el, "translation")
        if tr is not None and attr(tr, "code"):
            code, system, display = attr(tr, "code"), attr(tr, "codeSystem"), display or attr(tr, "displayName")
    original = _original_text(first(el, "originalText"), refs)
    return {
        f"{prefix}_code": code,
        f"{prefix}_system": code_system_uri(system) if code else None,
        f"{prefix}_display": display,
        f"{prefix}_original_text": original,
    }


def _original_text(el: Element | None, refs: dict[str, str]) -> str | None:
    """Text of an originalText/text element, or the narrative its ``reference`` points at."""
    if el is None:
        return None
    own = text_of(el)
    if own:
        return own
    ref = attr(el, "value", "reference")
    if ref and ref.startswith("#"):
        return refs.get(ref[1:])
    return None


def _times(el: Element | None) -> Values:
    """effective/low/high of an item's first effectiveTime (a point value or an interval)."""
    et = first(el, "effectiveTime")
    if et is None:
        return {}
    low = iso_time(attr(et, "value", "low"))
    high = iso_time(attr(et, "value", "high"))
    point = iso_time(attr(et, "value")) or iso_time(attr(et, "value", "center"))
    return {"effective_ts": point or low, "low_ts": low or point, "high_ts": high}


def _value(item: Element, refs: dict[str, str]) -> Values:
    val = first(item, "value")
    if val is None:
        return {}
    vtype = (val.get(XSI_TYPE) or "").rsplit(":", 1)[-1] or None
    out: Values = {"value_type": vtype}
    if vtype in ("PQ", "INT", "REAL", "MO", "RTO_PQ_PQ") or (vtype is None and attr(val, "unit")):
        number = attr(val, "value")
        unit = attr(val, "unit")
        out.update({"value_text": " ".join(p for p in (number, unit) if p) or None, "value_unit": unit})
        out["value_numeric"] = _number(number)
    elif vtype in ("IVL_PQ",):
        low, high = attr(val, "value", "low"), attr(val, "value", "high")
        unit = attr(val, "unit", "low") or attr(val, "unit", "high")
        out.update({"value_text": "-".join(p or "" for p in (low, high)), "value_unit": unit})
    elif vtype in ("ST", "ED", "SC") or (vtype is None and text_of(val)):
        out["value_text"] = _original_text(val, refs)
    elif vtype == "BL":
        out["value_text"] = attr(val, "value")
    else:
        coded = _coded(val, refs, "value")
        out.update(coded)
        out["value_text"] = coded.get("value_display") or coded.get("value_original_text") or coded.get("value_code")
    if out.get("value_text") is None and attr(val, "nullFlavor"):
        out["null_flavor"] = f"value={attr(val, 'nullFlavor')}"
    return out


def _number(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        float(value)
    except ValueError:
        return None
    return value


def _nested(item: Element, templates: tuple[str, ...]) -> Element | None:
    """Return the first observation below ``item`` that carries one of ``templates``."""
    for obs in item.iter("observation"):
        if obs is item:
            continue
        if any(t.split(":", 1)[0] in templates for t in tids(obs)):
            return obs
    return None


def _product(item: Element, refs: dict[str, str]) -> Values:
    material = first(item, "consumable", "manufacturedProduct", "manufacturedMaterial")
    if material is not None:
        out = _coded(first(material, "code"), refs, "product")
        out["lot_number"] = text_of(material, "lotNumberText")
        if not out.get("product_display"):
            out["product_display"] = text_of(material, "name")
        return out
    for part in kids(item, "participant"):
        entity = first(part, "participantRole", "playingEntity")
        if entity is not None:
            out = _coded(first(entity, "code"), refs, "product")
            if not out.get("product_display"):
                out["product_display"] = text_of(entity, "name")
            return out
    return {}


def _dose(item: Element) -> str | None:
    parts = []
    dose = first(item, "doseQuantity")
    if dose is not None and attr(dose, "value"):
        parts.append(" ".join(p for p in (attr(dose, "value"), attr(dose, "unit")) if p))
    route = first(item, "routeCode")
    if route is not None:
        parts.append(attr(route, "displayName") or attr(route, "code") or "")
    for et in kids(item, "effectiveTime"):
        if (et.get(XSI_TYPE) or "").endswith("PIVL_TS"):
            period = first(et, "period")
            if period is not None and attr(period, "value"):
                parts.append(f"every {attr(period, 'value')} {attr(period, 'unit') or ''}".strip())
    return " ".join(p for p in parts if p) or None


def _item_values(item: Element | None, statement: Element | None, entry: Element, refs: dict[str, str]) -> Values:
    if item is None:
        return {"item_element": None, "null_flavor": attr(entry, "nullFlavor") or "empty entry"}
    templates = tids(item)
    ident = first(item, "id")
    negated = any(attr(el, "negationInd") == "true" for el in (item, statement) if el is not None)
    row: Values = {
        "item_element": item.tag if statement is None or statement is item else f"{statement.tag}/{item.tag}",
        "template_ids": " ".join(templates) or None,
        "item_id": _id_text(ident),
        "mood": attr(item, "moodCode"),
        "status": attr(item, "code", "statusCode") or attr(statement, "code", "statusCode"),
        "negation": "negated" if negated else None,
        "null_flavor": attr(item, "nullFlavor"),
    }
    row.update(_times(item) or _times(statement))
    row.update(_coded(first(item, "code"), refs, "code"))
    row["code"] = row.pop("code_code", None)
    if not row.get("code_original_text"):
        row["code_original_text"] = _original_text(first(item, "text"), refs)
    row.update(_value(item, refs))
    row.update(_product(item, refs))
    row["dose_text"] = _dose(item)
    reaction = _nested(item, (REACTION_TEMPLATE,))
    if reaction is not None:
        coded = _coded(first(reaction, "value"), refs, "reaction")
        row.update({k: v for k, v in coded.items() if k != "reaction_original_text"})
    severity = _nested(item, SEVERITY_TEMPLATES)
    if severity is not None:
        sev = first(severity, "value")
        row["severity"] = attr(sev, "displayName") or attr(sev, "code")
    status = _nested(item, STATUS_TEMPLATES)
    if status is not None:
        st = first(status, "value")
        row["problem_status"] = attr(st, "displayName") or attr(st, "code")
    rng = first(item, "referenceRange", "observationRange")
    if rng is not None:
        row["reference_text"] = _original_text(first(rng, "text"), refs)
        row["reference_low"] = _number(attr(rng, "value", "value", "low"))
        row["reference_high"] = _number(attr(rng, "value", "value", "high"))
        if not row["reference_text"] and (row["reference_low"] or row["reference_high"]):
            row["reference_text"] = f"{row['reference_low'] or ''}-{row['reference_high'] or ''}"
    interp = _coded(first(item, "interpretationCode"), refs, "interpretation")
    row.update({k: v for k, v in interp.items() if not k.endswith("original_text")})
    site = _coded(first(item, "targetSiteCode"), refs, "target_site")
    row.update({k: v for k, v in site.items() if not k.endswith("original_text")})
    if statement is not None and statement is not item:
        row["organizer_id"] = _id_text(first(statement, "id"))
        row["organizer_display"] = attr(statement, "displayName", "code") or text_of(statement, "code", "originalText")
    performer = first(item, "performer", "assignedEntity", "id")
    row["performer_id"] = _id_text(performer)
    return row


def _id_text(el: Element | None) -> str | None:
    """``extension@root``, ``root`` alone, or None (a nullFlavor id)."""
    if el is None:
        return None
    root, ext = attr(el, "root"), attr(el, "extension")
    if ext and root:
        return f"{ext}@{root}"
    return ext or root
