"""Relational databases as sources, through SQLAlchemy: read-only, streamed, in a stable order.

Every table is read with a server-side cursor in batches (memory flat however large the table),
ordered by its primary key (or by all its columns when it has none) so that record numbers and
the package are the same on every run. Values arrive as the driver's Python types; Arrow turns
each column into text with its kernels (dates ``YYYY-MM-DD``; times ``YYYY-MM-DD HH:MM:SS`` with
``.ffffff`` only where there are microseconds, and ``Z`` when the database gave a time zone; numbers
as written by Arrow; booleans ``true``/``false``), so one mapping format serves files and databases.
A database NULL stays null (a CSV has no NULL, only empty fields).

Where the database offers it, the whole run reads one consistent, read-only snapshot
(PostgreSQL ``REPEATABLE READ READ ONLY``, MySQL/MariaDB ``WITH CONSISTENT SNAPSHOT, READ ONLY``,
SQLite opened read-only). The password is never written anywhere: URLs are shown with ``***``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from converters.base import SourceInfo, SourceReader, SourceTable, missing_tables
from converters.csv_source import ROW_COLUMN, RowProblem, SourceBatch
from converters.mapping import Mapping
from formats.errors import SourceError
from formats.privacy import redact_secrets
from formats.text_codecs import TextDecoding
from formats.text_repair import FallbackValue

BATCH_ROWS = 10_000


def parse_url(text: str, password: str | None = None) -> URL:
    """Return the SQLAlchemy URL of ``text``, with ``password`` set when given.

    Raises:
        SourceError: when ``text`` is not a database URL.
    """
    try:
        url = sa.make_url(text)
    except ArgumentError as exc:
        raise SourceError(
            f"{redact_secrets(text)} is not a database URL",
            hint="write it as dialect+driver://user@host:port/database, e.g. postgresql+psycopg2://jk@127.0.0.1/epj",
        ) from exc
    if password is None or url.get_backend_name() == "sqlite":  # a SQLite file has no password
        return url
    return url.set(password=password)


def shown(url: URL) -> str:
    """Return the URL for messages and records, with the password hidden."""
    return url.render_as_string(hide_password=True)


def _sqlite_read_only(url: URL) -> URL:
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    path = Path(database).absolute()
    if not path.is_file():
        raise SourceError(f"no SQLite database file at {path}", hint="check the path in the URL")
    return url.set(database=f"file:{path}?mode=ro", query={**url.query, "uri": "true"})


def to_text(values: list[Any]) -> pa.Array:
    """Return one column of driver values as text, converted by Arrow kernels.

    Mixed or unusual types (SQLite's dynamic typing, bytes) take a slower per-value path.
    """
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_value_text(v) for v in values], pa.string())
    return (
        array_text(arr) if not pa.types.is_binary(arr.type) else pa.array([_value_text(v) for v in values], pa.string())
    )


def array_text(arr: pa.Array) -> pa.Array:
    """Return an Arrow array as text in journalkonvert's canonical text forms."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_timestamp(t):
        # wall time (UTC for zoned values), whole seconds, then microseconds only where there are any
        wall = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")) if t.tz else arr.cast(pa.timestamp("us"))
        seconds = pc.cast(wall, pa.timestamp("s"), safe=False)
        base = pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
        micros = pc.subtract(pc.cast(wall, pa.int64()), pc.multiply(pc.cast(seconds, pa.int64()), 1_000_000))
        frac = pc.utf8_lpad(pc.cast(micros, pa.string()), width=6, padding="0")
        text = pc.if_else(pc.equal(micros, 0), base, pc.binary_join_element_wise(base, frac, "."))
        return pc.binary_join_element_wise(text, pa.scalar("Z"), "") if t.tz else text
    if pa.types.is_boolean(t):
        return pc.if_else(arr, pa.scalar("true"), pa.scalar("false"))
    return pc.cast(arr, pa.string())


def _value_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" ") if hasattr(value, "hour") and hasattr(value, "day") else value.isoformat())
    return str(value)


class Undecodable(str):
    """Text of a SQLite value whose bytes are not valid in the declared encoding (shown escaped)."""

    raw: bytes


class FallbackDecoded(str):
    """Text of a SQLite value that the fallback encoding read (mixed databases), with its bytes."""

    raw: bytes
    encoding: str


class SqlReader(SourceReader):
    """Any database SQLAlchemy reaches, converted by a mapping file (table names = mapping keys)."""

    name: ClassVar[str] = "sql"
    title: ClassVar[str] = "Relational database through SQLAlchemy (with --mapping)"
    reads: ClassVar[str] = "a database URL: sqlite:///file.db, postgresql+psycopg2://user@host/db, mysql+pymysql://..."

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._url: URL | None = None
        self._encoding = "utf-8"
        self._decoding = TextDecoding()
        self._undecodable = 0

    def accepts(self, path: Path | str) -> bool:
        """Accept a string that parses as a database URL (no connection is made)."""
        text = str(path)
        if "://" not in text:
            return False
        try:
            sa.make_url(text)
        except ArgumentError:
            return False
        return True

    def source_info(
        self,
        source: Path | str,
        *,
        mapping: Path | None = None,
        encoding: str | None = None,
        password: str | None = None,
    ) -> SourceInfo:
        """Check the URL (the password may come separately) and connect, read-only."""
        url = parse_url(str(source), password)
        self._encoding = encoding or "utf-8"
        self._decoding = TextDecoding.of(self._encoding)
        self._connect(url)
        return SourceInfo(url=shown(url), mapping=mapping, encoding=encoding, password=password)

    def _connect(self, url: URL) -> None:
        if url.get_backend_name() == "sqlite":
            url = _sqlite_read_only(url)
        self._url = url
        try:
            engine = sa.create_engine(url)
            if url.get_backend_name() == "sqlite":
                sa.event.listen(engine, "connect", self._sqlite_text)
            conn = engine.connect()
        except NoSuchModuleError as exc:
            raise SourceError(
                f"no SQLAlchemy driver for {url.drivername}",
                hint="install the driver (e.g. pip install psycopg2-binary, pymysql) or name another in the URL",
            ) from exc
        except (SQLAlchemyError, ImportError) as exc:
            message = redact_secrets(str(getattr(exc, "orig", exc) or exc)).splitlines()[0]
            if url.password:
                message = message.replace(str(url.password), "***")
            raise SourceError(
                f"cannot connect to {shown(url)}: {message}",
                hint="check that the server runs and is reachable, and the user name and password",
            ) from None
        self._engine, self._conn = engine, conn
        self._begin_snapshot(conn)

    def _sqlite_text(self, dbapi_connection: object, _record: object) -> None:
        """Let SQLite hand over text bytes undecoded: a legacy code page must not stop the run."""

        def decode(raw: bytes) -> str:
            try:
                text, used = self._decoding.decode(raw)
            except UnicodeDecodeError:
                self._undecodable += 1
                bad = Undecodable(raw.decode(self._decoding.encoding, errors="backslashreplace"))
                bad.raw = raw
                return bad
            if used is None:
                return text
            self._undecodable += 1
            decoded = FallbackDecoded(text)
            decoded.raw, decoded.encoding = raw, used
            return decoded

        dbapi_connection.text_factory = decode  # type: ignore[attr-defined]

    def _begin_snapshot(self, conn: Connection) -> None:
        dialect = conn.dialect.name
        statements = {
            "postgresql": "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "mysql": "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            "mariadb": "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        }
        conn.begin()
        if dialect in statements:
            try:
                conn.exec_driver_sql(statements[dialect])
            except SQLAlchemyError:  # an old server without READ ONLY: still one transaction
                conn.rollback()
                conn.begin()

    @property
    def connection(self) -> Connection:
        """The open connection (after ``source_info``)."""
        if self._conn is None:
            raise SourceError("the database is not connected", hint="this is a bug in journalkonvert")
        return self._conn

    def tables(self, source: SourceInfo, mapping: Mapping) -> list[SourceTable]:
        """List the database's tables (case-insensitively matched to the mapping), plus missing mapped ones."""
        self._decoding = TextDecoding.of(mapping.source.encoding, mapping.source.fallback_encoding)
        self._encoding = self._decoding.encoding
        inspector = sa.inspect(self.connection)
        names = sorted(inspector.get_table_names())
        by_lower = {t.name.lower(): t.name for t in mapping.tables}
        out = []
        for db_name in names:
            columns = tuple(c["name"] for c in inspector.get_columns(db_name))
            count = self.connection.execute(sa.select(sa.func.count()).select_from(sa.table(db_name))).scalar_one()
            out.append(
                SourceTable(
                    name=by_lower.get(db_name.lower(), db_name),
                    path=None,
                    file_name=db_name,
                    columns=columns,
                    encoding="database",
                    delimiter="",
                    size=int(count),
                    size_unit="rows",
                )
            )
        out += missing_tables(mapping, {t.name for t in out}, encoding="database", database=True)
        return out

    def _order(self, table: SourceTable) -> list[str]:
        pk = sa.inspect(self.connection).get_pk_constraint(table.file_name).get("constrained_columns") or []
        return list(pk) or list(table.columns)

    def read(self, table: SourceTable) -> Iterator[SourceBatch]:
        """Stream the table's rows in primary-key order; record numbers count from 2 as in a file."""
        if table.missing:
            return
        t = sa.table(table.file_name, *(sa.column(c) for c in table.columns))
        query = sa.select(*(t.c[c] for c in table.columns)).order_by(*(t.c[c] for c in self._order(table)))
        result = self.connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(query)
        number = 2
        for rows in result.partitions(BATCH_ROWS):
            problems: list[RowProblem] = []
            fallbacks: list[FallbackValue] = []
            numbers = list(range(number, number + len(rows)))
            number += len(rows)
            if self._undecodable:
                self._undecodable = 0
                rows, numbers, problems = self._split_undecodable(table, list(rows), numbers)
                fallbacks = [
                    FallbackValue(n, c, v.raw, v.encoding)
                    for row, n in zip(rows, numbers, strict=True)
                    for c, v in zip(table.columns, row, strict=True)
                    if isinstance(v, FallbackDecoded)
                ]
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in table.columns]
            data = {name: to_text(list(values)) for name, values in zip(table.columns, columns, strict=True)}
            data[ROW_COLUMN] = pa.array(numbers, pa.int64())
            yield SourceBatch(pa.table(data), problems, fallbacks)

    def _split_undecodable(
        self, table: SourceTable, rows: list[Any], numbers: list[int]
    ) -> tuple[list[Any], list[int], list[RowProblem]]:
        """Move rows holding text that is not valid in the declared encoding into problems."""
        keep_rows, keep_numbers, problems = [], [], []
        for row, n in zip(rows, numbers, strict=True):
            bad = next((c for c, v in zip(table.columns, row, strict=True) if isinstance(v, Undecodable)), None)
            if bad is None:
                keep_rows.append(row)
                keep_numbers.append(n)
                continue
            values = {c: (v if v is None else str(v)) for c, v in zip(table.columns, row, strict=True)}
            raw = b"\x1f".join(v.raw if isinstance(v, Undecodable) else str(v).encode() for v in row if v is not None)
            problems.append(
                RowProblem(
                    row_number=n,
                    reason="encoding_error",
                    rule=f"column {bad}: text is not valid {self._encoding}; "
                    "give the database's text encoding with --encoding",
                    raw_record=json.dumps(values, ensure_ascii=False),
                    raw_base64=base64.b64encode(raw).decode("ascii"),
                    source_column=bad,
                )
            )
        return keep_rows, keep_numbers, problems

    def fingerprint(self, table: SourceTable) -> str:
        """Identify a table by its name, columns and row count (its content is hashed row by row in the ledger)."""
        text = f"{table.file_name}|{'|'.join(table.columns)}|{table.size}"
        return hashlib.sha256(text.encode()).hexdigest()

    def close(self) -> None:
        """End the read-only transaction and close the connection."""
        if self._conn is not None:
            try:
                self._conn.rollback()
            finally:
                self._conn.close()
                self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class OmopReader(SqlReader):
    """An OMOP CDM 5.3/5.4 database, with the shipped mapping (mappings/omop.yaml)."""

    name: ClassVar[str] = "omop"
    title: ClassVar[str] = "OMOP CDM 5.4 database (OHDSI), shipped mapping"
    reads: ClassVar[str] = "a database URL of an OMOP CDM schema: person, visit_occurrence, condition_occurrence, ..."
    default_mapping: ClassVar[str | None] = "omop"


class OpenmrsReader(SqlReader):
    """An OpenMRS 2.x database (MySQL/MariaDB), with the shipped mapping (mappings/openmrs.yaml)."""

    name: ClassVar[str] = "openmrs"
    title: ClassVar[str] = "OpenMRS 2.x database (MySQL/MariaDB), shipped mapping"
    reads: ClassVar[str] = "a database URL of an OpenMRS schema: patient, person, encounter, obs, orders, ..."
    default_mapping: ClassVar[str | None] = "openmrs"
