"""JSON Schemas and the human data dictionary, generated from the model declarations."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from formats.model import MODEL_VERSION, TABLES, TableSpec


def json_type(dtype: pa.DataType) -> dict[str, Any]:
    """Return the JSON Schema fragment for an Arrow type (as the CSV twin and JSON exports carry it)."""
    if pa.types.is_timestamp(dtype):
        return {"type": "string", "format": "date-time"}
    if pa.types.is_date(dtype):
        return {"type": "string", "format": "date"}
    if pa.types.is_boolean(dtype):
        return {"type": "boolean"}
    if pa.types.is_integer(dtype):
        return {"type": "integer"}
    if pa.types.is_floating(dtype):
        return {"type": "number"}
    if pa.types.is_decimal(dtype):
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description_suffix": "decimal as text"}
    return {"type": "string"}


def table_json_schema(spec: TableSpec) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one canonical table's rows."""
    props: dict[str, Any] = {}
    for fs in spec.fields:
        frag = json_type(fs.type)
        suffix = frag.pop("description_suffix", "")
        base = {**frag, "description": fs.description + (f" ({suffix})" if suffix else "")}
        if not fs.required:
            base = {"anyOf": [frag, {"type": "null"}], "description": base["description"]}
        if fs.pii:
            base["x-pii"] = True
        props[fs.name] = base
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:journalkonvert:model:{MODEL_VERSION}:{spec.name}",
        "title": f"{spec.name} ({spec.title})",
        "description": spec.description,
        "x-model-version": MODEL_VERSION,
        "x-sort-keys": list(spec.sort_keys),
        "type": "object",
        "additionalProperties": False,
        "required": [fs.name for fs in spec.fields if fs.required],
        "properties": props,
    }


def type_label(dtype: pa.DataType) -> str:
    """Return a short human label for an Arrow type."""
    if pa.types.is_timestamp(dtype):
        return "timestamp (UTC)"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_decimal(dtype):
        return f"decimal({dtype.precision},{dtype.scale})"
    if pa.types.is_floating(dtype):
        return "float64"
    if pa.types.is_integer(dtype):
        return "int64"
    if pa.types.is_boolean(dtype):
        return "boolean"
    return "string"


def data_dictionary_markdown() -> str:
    """Return the data dictionary of the whole model as Markdown (docs/data-dictionary.md)."""
    lines = [
        f"# Data dictionary: canonical model {MODEL_VERSION}",
        "",
        "Generated from `formats/model.py` by `journalkonvert model --dictionary`; do not edit by hand.",
        "Every table also has the lineage columns `source_system`, `source_ref`, `source_hash`, `run_id`.",
        "A coded value is five columns: `<x>_system`, `<x>_code`, `<x>_display`, `<x>_system_version`,",
        "`<x>_original_text`. Timestamps are UTC instants; naive source times are read in the",
        "mapping's declared zone (Europe/Oslo for Norwegian systems) and the report says so.",
        "",
    ]
    for spec in TABLES.values():
        lines += [
            f"## `{spec.name}` — {spec.title}",
            "",
            spec.description,
            "",
            f"Sorted by: {', '.join(spec.sort_keys)}.",
            "",
            "| field | type | required | personal data | description |",
            "|---|---|---|---|---|",
        ]
        for fs in spec.fields:
            lines.append(
                f"| `{fs.name}` | {type_label(fs.type)} | {'yes' if fs.required else ''} | "
                f"{'yes' if fs.pii else ''} | {fs.description} |"
            )
        lines.append("")
    return "\n".join(lines)
