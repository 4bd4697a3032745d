"""SQL over an archive package with DuckDB, tables by their canonical names."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from formats.errors import ConversionError
from formats.package import LEDGER_DIR, RAW_DIR, REJECTS_DIR, PackageLayout
from formats.table_sink import sql_string


class QueryError(ConversionError):
    """The SQL could not be run."""


def package_views(layout: PackageLayout) -> dict[str, Path]:
    """Return view name -> Parquet file: canonical tables, raw_<table>, rejects, ledger."""
    views = {name: layout.table(name) for name in layout.canonical_tables()}
    for p in sorted(layout.dir(RAW_DIR).glob("*.parquet")):
        views[f"raw_{p.stem}"] = p
    rejects = layout.dir(REJECTS_DIR) / "rejects.parquet"
    if rejects.is_file():
        views["rejects"] = rejects
    ledger = layout.dir(LEDGER_DIR) / "records.parquet"
    if ledger.is_file():
        views["ledger"] = ledger
    return views


def connect(layout: PackageLayout) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with one view per package table."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET enable_progress_bar=false")
    for name, path in package_views(layout).items():
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({sql_string(path)})')
    return con


def run_query(layout: PackageLayout, sql: str) -> pa.Table:
    """Run ``sql`` over the package and return the result.

    Raises:
        QueryError: with DuckDB's message and the tables one can query.

    Example:
        >>> run_query(layout, "select count(*) as n from patient").column("n")[0].as_py()  # doctest: +SKIP
        27
    """
    con = connect(layout)
    try:
        return con.sql(sql).to_arrow_table() if sql.strip() else pa.table({})
    except duckdb.Error as exc:
        known = ", ".join(package_views(layout))
        raise QueryError(
            f"the query failed: {str(exc).splitlines()[0]}", hint=f"tables you can query: {known}"
        ) from exc
    except AttributeError as exc:
        raise QueryError("the statement returned no rows to show", hint="use a SELECT statement") from exc
    finally:
        con.close()
