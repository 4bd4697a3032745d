"""Load and validate declarative mapping files into frozen objects.

Every problem in a file is collected and raised together in one ``MappingFileError``, each with
its key path (``tables.patients.targets[0].fields.birth_date.format``). docs/mapping.md
describes the format; ``mappings/mapping.schema.json`` is its JSON Schema.
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import yaml

from formats.errors import MappingFileError
from formats.model import CODED_PARTS, TABLES, TableSpec
from formats.text_codecs import is_known_encoding
from mappings import MAPPINGS_DIR

ISO_DATE = ("%Y-%m-%d",)
ISO_TIMESTAMP = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
ON_UNKNOWN = ("keep", "flag", "null", "reject")


@dataclass(frozen=True)
class Condition:
    """A row filter: ``column`` compared with values (equals / in / not_in / empty)."""

    column: str
    op: str
    values: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class Lookup:
    """A join: values are looked up in ``key`` of source table ``table`` and replaced by ``value``."""

    table: str
    key: str
    value: str


@dataclass(frozen=True)
class ValueRule:
    """How one canonical value is computed from a source row."""

    path: str
    target_type: pa.DataType
    column: str | None = None
    concat: tuple[str, ...] = ()
    separator: str = " "
    constant: str | None = None
    formats: tuple[str, ...] = ()
    timezone: str = "UTC"
    mapping: tuple[tuple[str, str | None], ...] | None = None
    lookup: Lookup | None = None
    identify: str | None = None
    on_unknown: str = "flag"
    required: bool = False
    trim: bool = False
    when: Condition | None = None

    def columns(self) -> tuple[str, ...]:
        """Return the source columns this rule reads."""
        own = ((self.column,) if self.column else ()) + self.concat
        return own + ((self.when.column,) if self.when else ())


@dataclass(frozen=True)
class FieldRule:
    """One canonical column and the rule that fills it."""

    target: str
    rule: ValueRule


@dataclass(frozen=True)
class TargetRule:
    """Rows of a source table (optionally filtered) become rows of one canonical table."""

    table: str
    where: Condition | None
    fields: tuple[FieldRule, ...]
    path: str

    def columns(self) -> set[str]:
        """Return the source columns this target reads."""
        cols = {c for fr in self.fields for c in fr.rule.columns()}
        if self.where:
            cols.add(self.where.column)
        return cols


@dataclass(frozen=True)
class ExcludeRule:
    """Rows matching ``where`` are excluded on purpose, for ``reason``."""

    where: Condition
    reason: str


@dataclass(frozen=True)
class TableMapping:
    """How one source table is converted."""

    name: str
    file: str
    description: str
    patient: str | None
    key: str | None
    targets: tuple[TargetRule, ...]
    excludes: tuple[ExcludeRule, ...]
    unmatched: str
    drop_columns: tuple[tuple[str, str], ...]
    preserve_reason: str
    duplicates: str = "reject"

    def consumed_columns(self) -> set[str]:
        """Return every source column the mapping reads or deliberately drops."""
        cols = {c for t in self.targets for c in t.columns()}
        cols |= {e.where.column for e in self.excludes}
        cols |= {c for c, _ in self.drop_columns}
        if self.patient:
            cols.add(self.patient)
        return cols


@dataclass(frozen=True)
class SourceOptions:
    """How the source files are read."""

    format: str = "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    timezone: str = "Europe/Oslo"
    patient_table: str | None = None
    fallback_encoding: str | None = None
    repair_mojibake: bool = True


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file."""

    system: str
    title: str
    description: str
    source: SourceOptions
    code_systems: tuple[tuple[str, str], ...]
    tables: tuple[TableMapping, ...]
    path: Path
    sha256: str

    def table(self, name: str) -> TableMapping | None:
        """Return the mapping of source table ``name``, if any."""
        return next((t for t in self.tables if t.name == name), None)

    def lookups(self) -> list[Lookup]:
        """Return every lookup (join) the mapping's rules use, each once, in a stable order."""
        found = {fr.rule.lookup for t in self.tables for target in t.targets for fr in target.fields if fr.rule.lookup}
        return sorted(found, key=lambda lk: (lk.table, lk.key, lk.value))

    def with_source(self, source: SourceOptions) -> Mapping:
        """Return a copy with other source options (e.g. ``--encoding`` from the command line)."""
        return Mapping(
            self.system, self.title, self.description, source, self.code_systems, self.tables, self.path, self.sha256
        )


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MAPPINGS_DIR / "mapping.schema.json").read_text(encoding="utf-8"))
    return loaded


def _key_path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _suffix(parts: Any) -> str:
    """Return ``.key.path`` for a non-empty path inside a value, else nothing."""
    parts = list(parts)
    if not parts:
        return ""
    text = _key_path(parts)
    return text if text.startswith("[") else "." + text


def load_mapping(path: Path) -> Mapping:
    """Load, validate and return a mapping file.

    Args:
        path: a YAML mapping file.

    Returns:
        The frozen mapping.

    Raises:
        MappingFileError: with every problem found, each with its key path.

    Example:
        >>> from mappings import mapping_path
        >>> load_mapping(mapping_path("synthea-csv")).system
        'synthea-csv'
    """
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise MappingFileError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        doc = yaml.safe_load(raw_bytes.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingFileError(str(path), [f"not valid UTF-8 YAML: {exc}"]) from exc
    validator = jsonschema.Draft202012Validator(_schema())
    errors = [
        f"{_key_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if errors and not isinstance(doc, dict):
        raise MappingFileError(str(path), errors)
    builder = _Builder(doc, validator)
    try:
        mapping = builder.build(path, hashlib.sha256(raw_bytes).hexdigest())
    except (KeyError, TypeError, AttributeError, ValueError):
        # the document's structure is too broken to check its meaning; the schema errors say why
        if not errors:
            raise
        raise MappingFileError(str(path), errors) from None
    problems = errors + [e for e in builder.errors if e not in errors]
    if problems:
        raise MappingFileError(str(path), problems)
    return mapping


class _Builder:
    """Turns a schema-valid document into frozen objects, collecting semantic errors."""

    def __init__(self, doc: dict[str, Any], validator: jsonschema.Draft202012Validator) -> None:
        self.doc = doc
        self.errors: list[str] = []
        defs = _schema()["$defs"]
        self.value_validator = validator.evolve(schema={**defs["value"], "$defs": defs})
        # an object value rule is checked against the object form alone, for precise messages
        self.object_validator = validator.evolve(schema={**defs["value"]["oneOf"][1], "$defs": defs})
        self.coded_validator = validator.evolve(schema={**defs["coded"], "$defs": defs})
        self.code_systems: dict[str, str] = dict(doc.get("code_systems", {}))
        src = doc.get("source", {})
        self.source = SourceOptions(
            format=src.get("format", "csv"),
            encoding=src.get("encoding", "utf-8"),
            delimiter=src.get("delimiter", ","),
            timezone=src.get("timezone", "Europe/Oslo"),
            patient_table=src.get("patient_table"),
            fallback_encoding=src.get("fallback_encoding"),
            repair_mojibake=src.get("repair_mojibake", True),
        )
        self._check_timezone(self.source.timezone, "source.timezone")
        for key in ("encoding", "fallback_encoding"):
            name = getattr(self.source, key)
            if name is not None and not is_known_encoding(name):
                self.errors.append(f"source.{key}: unknown encoding {name!r} (docs/encodings.md lists the supported)")

    def build(self, path: Path, sha256: str) -> Mapping:
        tables = tuple(self._table(name, spec) for name, spec in self.doc["tables"].items())
        pt = self.source.patient_table
        if pt is not None and pt not in self.doc["tables"]:
            self.errors.append(f"source.patient_table: {pt!r} is not one of the tables")
        elif pt is not None and not self.doc["tables"][pt].get("patient"):
            self.errors.append(f"tables.{pt}.patient: the patient table must name its patient key column")
        if pt is None:
            for name, spec in self.doc["tables"].items():
                if spec.get("patient"):
                    self.errors.append(
                        f"tables.{name}.patient: patient references can only be checked against a patient "
                        "table; set source.patient_table (else every row would be rejected as dangling_reference)"
                    )
        return Mapping(
            system=self.doc["system"],
            title=self.doc.get("title", self.doc["system"]),
            description=self.doc.get("description", ""),
            source=self.source,
            code_systems=tuple(sorted(self.code_systems.items())),
            tables=tables,
            path=path,
            sha256=sha256,
        )

    def _check_timezone(self, tz: str, where: str) -> None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.errors.append(f"{where}: unknown time zone {tz!r} (use an IANA name such as Europe/Oslo)")

    def _condition(self, spec: dict[str, Any], path: str) -> Condition:
        ops = [k for k in ("equals", "in", "not_in", "empty") if k in spec]
        if len(ops) != 1:
            self.errors.append(f"{path}: give exactly one of equals, in, not_in, empty")
            return Condition(spec["column"], "equals", ("",), path)
        op = ops[0]
        val = spec[op]
        values = (str(val),) if op in ("equals", "empty") else tuple(str(v) for v in val)
        return Condition(spec["column"], op, values, path)

    def _table(self, name: str, spec: dict[str, Any]) -> TableMapping:
        path = f"tables.{name}"
        targets = tuple(self._target(t, f"{path}.targets[{i}]", spec) for i, t in enumerate(spec.get("targets", [])))
        excludes = tuple(
            ExcludeRule(self._condition(e["where"], f"{path}.exclude[{i}].where"), e["reason"])
            for i, e in enumerate(spec.get("exclude", []))
        )
        if not targets and not spec.get("preserve"):
            self.errors.append(f"{path}: no targets; say why it is kept raw with 'preserve: <reason>'")
        return TableMapping(
            name=name,
            file=spec.get("file", f"{name}.csv"),
            description=spec.get("description", ""),
            patient=spec.get("patient"),
            key=spec.get("key"),
            targets=targets,
            excludes=excludes,
            unmatched=spec.get("unmatched", "preserve"),
            drop_columns=tuple(sorted(spec.get("drop_columns", {}).items())),
            preserve_reason=spec.get("preserve", ""),
            duplicates=spec.get("duplicates", "reject"),
        )

    def _target(self, spec: dict[str, Any], path: str, table_spec: dict[str, Any]) -> TargetRule:
        name = spec["table"]
        where = self._condition(spec["where"], f"{path}.where") if "where" in spec else None
        canonical = TABLES.get(name)
        if canonical is None:
            self.errors.append(f"{path}.table: unknown canonical table {name!r}; known: {', '.join(sorted(TABLES))}")
            return TargetRule(name, where, (), path)
        fields: list[FieldRule] = []
        for key, value in spec["fields"].items():
            fields.extend(self._field(canonical, key, value, f"{path}.fields.{key}"))
        mapped = {fr.target for fr in fields}
        if canonical.patient_scoped and "patient_id" not in mapped:
            if table_spec.get("patient"):
                col = table_spec["patient"]
                rule = ValueRule(path=f"{path}.fields.patient_id", target_type=pa.string(), column=col, required=True)
                fields.append(FieldRule("patient_id", rule))
            else:
                self.errors.append(f"{path}.fields: {name} rows need patient_id (or a table-level 'patient' column)")
        return TargetRule(name, where, tuple(fields), path)

    def _field(self, canonical: TableSpec, key: str, value: Any, path: str) -> list[FieldRule]:
        names = set(canonical.field_names())
        reserved = {"record_id", "source_system", "source_ref", "source_hash", "run_id"}
        if key in reserved:
            self.errors.append(f"{path}: {key} is filled by journalkonvert itself and cannot be mapped")
            return []
        if key in names:
            return [FieldRule(key, r) for r in [self._value(value, path, canonical.get(key).type)] if r]
        if f"{key}_code" in names:
            if not isinstance(value, dict):
                self.errors.append(f"{path}: {key} is a coded value; give its parts (system, code, display, ...)")
                return []
            for err in self.coded_validator.iter_errors(value):
                if not err.absolute_path:  # errors inside a part are reported with that part, below
                    self.errors.append(f"{path}: {err.message}")
            out: list[FieldRule] = []
            for part, _ in CODED_PARTS:
                if part in value:
                    rule = self._value(value[part], f"{path}.{part}", pa.string(), is_system=part == "system")
                    if rule:
                        out.append(FieldRule(f"{key}_{part}", rule))
            return out
        self.errors.append(f"{path}: {canonical.name} has no field {key!r}; see docs/data-dictionary.md")
        return []

    def _value(self, value: Any, path: str, target_type: pa.DataType, *, is_system: bool = False) -> ValueRule | None:
        checker = self.object_validator if isinstance(value, dict) else self.value_validator
        errs = list(checker.iter_errors(value))
        if errs:
            for e in errs:
                self.errors.append(f"{path}{_suffix(e.absolute_path)}: {e.message}")
            return None
        if isinstance(value, str):
            if is_system:
                return ValueRule(path=path, target_type=target_type, constant=self._system(value, path))
            value = {"column": value}
        sources = [k for k in ("column", "concat", "value") if k in value]
        if len(sources) != 1:
            self.errors.append(f"{path}: give exactly one of column, concat, value")
            return None
        if "format" in value and "formats" in value:
            self.errors.append(f"{path}: give format or formats, not both")
        formats = tuple(value.get("formats", [value["format"]] if "format" in value else []))
        if pa.types.is_date(target_type) and not formats:
            formats = ISO_DATE
        if pa.types.is_timestamp(target_type) and not formats:
            formats = ISO_TIMESTAMP
        if formats and not (pa.types.is_date(target_type) or pa.types.is_timestamp(target_type)):
            self.errors.append(f"{path}.format: only date and time fields take a format (field is {target_type})")
        tz = value.get("timezone", self.source.timezone)
        if "timezone" in value:
            self._check_timezone(tz, f"{path}.timezone")
        constant = value.get("value")
        if constant is not None:
            constant = str(constant).lower() if isinstance(constant, bool) else str(constant)
            if is_system:
                constant = self._system(constant, path)
        mapping = value.get("map")
        lookup = None
        if "lookup" in value:
            spec = value["lookup"]
            lookup = Lookup(spec["table"], spec["key"], spec["value"])
            if spec["table"] not in self.doc["tables"]:
                self.errors.append(f"{path}.lookup.table: {spec['table']!r} is not one of the tables")
            if mapping is not None:
                self.errors.append(f"{path}: give map or lookup, not both")
        if mapping is not None:
            odd = [k for k in mapping if not isinstance(k, str)]
            if odd:
                self.errors.append(
                    f"{path}.map: keys {odd!r} were read by YAML as {', '.join(type(k).__name__ for k in odd)}; "
                    "quote them (e.g. '01': ...) so the source codes are compared as text"
                )
        return ValueRule(
            path=path,
            target_type=target_type,
            column=value.get("column"),
            concat=tuple(value.get("concat", ())),
            separator=value.get("separator", " "),
            constant=constant,
            formats=formats,
            timezone=tz,
            mapping=tuple(sorted((str(k), v) for k, v in mapping.items())) if mapping is not None else None,
            on_unknown=value.get("on_unknown", "flag") or "null",
            required=bool(value.get("required", False)),
            trim=bool(value.get("trim", False)),
            when=self._condition(value["when"], f"{path}.when") if "when" in value else None,
            lookup=lookup,
            identify=self._identify(value, path, target_type),
        )

    def _identify(self, value: dict[str, Any], path: str, target_type: pa.DataType) -> str | None:
        what = value.get("identify")
        if what is None:
            return None
        wanted = pa.bool_() if what == "valid" else pa.string()
        if not target_type.equals(wanted):
            self.errors.append(f"{path}.identify: {what!r} gives {wanted}, but the field is {target_type}")
        if "map" in value or "lookup" in value:
            self.errors.append(f"{path}: give identify, or map/lookup, not both")
        return str(what)

    def _system(self, name: str, path: str) -> str:
        if name in self.code_systems:
            return self.code_systems[name]
        if ":" in name:
            return name
        self.errors.append(f"{path}: unknown code system {name!r}; declare it under code_systems or give a URI/OID")
        return name
