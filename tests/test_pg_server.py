"""The PostgreSQL test helper (tests/pg_server.py): a real server on loopback, loaded from CSV.

One server is started for the module's tests (session fixture) and loaded with the Eunomia OMOP
folder (../shared/data, read in place). The tests skip, with the reason, where PostgreSQL is not
installed and cannot be installed (see pg_server_fixture); a SQLAlchemy driver is needed too.
"""

from __future__ import annotations

import csv
import importlib.util
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg_server import PgServer, PgUnavailable, find_bin_dir, pg_server, pg_server_fixture
from server_tools import port_is_open
from sqlalchemy.exc import OperationalError

EUNOMIA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "eunomia-synthea27nj-omop"

DRIVER_MISSING = importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is None
needs_driver = pytest.mark.skipif(
    DRIVER_MISSING, reason="no PostgreSQL driver for SQLAlchemy; pip install psycopg2-binary"
)

pg = pg_server_fixture()


@pytest.fixture(scope="module")
def eunomia_pg(pg: PgServer) -> tuple[PgServer, dict[str, int]]:
    if not (EUNOMIA_DIR / "PERSON.csv").is_file():
        pytest.skip("../shared/data/eunomia-synthea27nj-omop is not available")
    started = time.monotonic()
    loaded = pg.load_csv_folder(EUNOMIA_DIR)
    print(f"server start {pg.startup_seconds:.2f} s, load {time.monotonic() - started:.2f} s")
    return pg, loaded


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for row in csv.reader(fh) if row) - 1


def test_every_csv_file_becomes_a_table_with_all_its_rows(eunomia_pg: tuple[PgServer, dict[str, int]]) -> None:
    server, loaded = eunomia_pg
    files = sorted(EUNOMIA_DIR.glob("*.csv"))
    assert set(loaded) == {p.stem.lower() for p in files}
    for path in files:
        assert loaded[path.stem.lower()] == _csv_rows(path), path.name
    assert server.psql("select count(*) from concept") == str(_csv_rows(EUNOMIA_DIR / "CONCEPT.csv"))


def test_columns_are_text_named_from_the_header(eunomia_pg: tuple[PgServer, dict[str, int]]) -> None:
    server, _ = eunomia_pg
    with (EUNOMIA_DIR / "PERSON.csv").open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    out = server.psql(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'public' and table_name = 'person' order by ordinal_position"
    )
    assert [line.split("|") for line in out.splitlines()] == [[c, "text"] for c in header]


@needs_driver
def test_person_count_through_sqlalchemy(eunomia_pg: tuple[PgServer, dict[str, int]]) -> None:
    server, _ = eunomia_pg
    engine = sa.create_engine(server.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from person")).scalar_one() == 28
            assert conn.execute(sa.text("select current_user")).scalar_one() == server.user
    finally:
        engine.dispose()


@needs_driver
@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_a_wrong_or_missing_password_is_refused(pg: PgServer, password: str) -> None:
    driver = sa.make_url(pg.url).drivername.split("+", 1)[1]
    engine = sa.create_engine(pg.url_for(driver, password=password))
    try:
        with pytest.raises(OperationalError, match="password"), engine.connect():
            pass
    finally:
        engine.dispose()


def test_listens_on_loopback_only(pg: PgServer) -> None:
    assert pg.psql("show listen_addresses") == "127.0.0.1"
    assert port_is_open(pg.port)
    assert pg.psql("show password_encryption") == "scram-sha-256"


def test_a_server_stops_and_leaves_nothing_behind() -> None:
    try:
        with pg_server() as server:
            port, base = server.port, server.base_dir
            assert base is not None and (base / "data" / "postmaster.pid").is_file()
            assert port_is_open(port)
            assert server.psql("select 1") == "1"
    except PgUnavailable as exc:
        pytest.skip(f"PostgreSQL test server unavailable: {exc}")
    assert not port_is_open(port)
    assert not base.exists()


def test_unavailable_postgresql_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import pg_server as module

    monkeypatch.setattr(module, "find_bin_dir", lambda: None)
    with pytest.raises(PgUnavailable, match="apt-get install -y postgresql"):
        PgServer(install=False).start()


def test_find_bin_dir_finds_the_server_programs() -> None:
    found = find_bin_dir()
    if found is None:
        pytest.skip("PostgreSQL is not installed here")
    assert all((found / name).exists() for name in ("initdb", "pg_ctl", "postgres"))


# --- the payoff: the OMOP mapping converts the database like the CSV folder it was loaded from ------

LINEAGE = {"record_id", "source_system", "source_ref", "source_hash", "run_id"}


def _canonical_rows(package: Path, table: str) -> list[tuple[object, ...]]:
    from formats.model import TABLES
    from formats.package import open_package
    from reports.query import run_query

    columns = ", ".join(f for f in TABLES[table].field_names() if f not in LINEAGE)
    return [
        tuple(r.values())
        for r in run_query(open_package(package), f"select {columns} from {table} order by all").to_pylist()
    ]


@needs_driver
def test_omop_mapping_converts_the_database_like_the_csv_folder(
    eunomia_pg: tuple[PgServer, dict[str, int]], tmp_path: Path
) -> None:
    from converters import READERS
    from converters.pipeline import ConversionOptions, run_conversion
    from mappings import mapping_path
    from validation import validate_archive

    if "sql" not in READERS:
        pytest.skip("the sql reader is not registered")
    server, _ = eunomia_pg
    mapping = mapping_path("omop")
    from_db = run_conversion(
        ConversionOptions(system="sql", source=server.url, archive=tmp_path / "db", mapping=mapping)
    )
    from_csv = run_conversion(
        ConversionOptions(system="csv", source=EUNOMIA_DIR, archive=tmp_path / "csv", mapping=mapping)
    )
    assert from_db.tables == from_csv.tables
    assert from_db.tables["patient"] == 28
    assert from_db.ledger.totals() == from_csv.ledger.totals()
    assert from_db.ledger.totals()["rejected"] == 0
    assert validate_archive(tmp_path / "db").valid
    for table in from_db.tables:
        assert _canonical_rows(tmp_path / "db", table) == _canonical_rows(tmp_path / "csv", table), table


@needs_driver
def test_omop_reader_scan_and_password_on_a_real_server(
    eunomia_pg: tuple[PgServer, dict[str, int]], tmp_path: Path
) -> None:
    """Issue 3 on PostgreSQL: --system omop, person count checked in the database, scan, no password anywhere."""
    from click.testing import CliRunner
    from sqlalchemy import create_engine, text

    import convert

    server, _ = eunomia_pg
    engine = create_engine(server.url)
    with engine.connect() as conn:
        persons = conn.execute(text("select count(*) from person")).scalar_one()
        source_values = [r[0] for r in conn.execute(text("select person_source_value from person")) if r[0]]
    engine.dispose()
    archive = tmp_path / "omop"
    runner = CliRunner()
    result = runner.invoke(convert.cli, ["convert", "--system", "omop", server.url, str(archive)], obj={})
    assert result.exit_code == 0, result.output
    assert server.password not in result.output
    count = runner.invoke(
        convert.cli, ["query", str(archive), "select count(*) as n from patient", "--format", "csv"], obj={}
    )
    assert count.output.splitlines()[1] == str(persons) == "28"
    for path in archive.rglob("*"):
        if path.is_file():
            assert server.password.encode() not in path.read_bytes(), path
    scan_json, scan_html = tmp_path / "scan.json", tmp_path / "scan.html"
    scanned = runner.invoke(
        convert.cli, ["scan", server.url, "--json", str(scan_json), "--html", str(scan_html)], obj={}
    )
    assert scanned.exit_code == 0, scanned.output
    assert server.password not in scanned.output
    for report in (scan_json.read_text(encoding="utf-8"), scan_html.read_text(encoding="utf-8")):
        assert server.password not in report
        for value in source_values:
            assert value not in report


@needs_driver
def test_wrong_credentials_are_a_clear_error_without_the_password(pg: PgServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    import convert

    wrong = "not-the-Password-91"
    url = pg.url.replace(pg.password, wrong)
    result = CliRunner().invoke(convert.cli, ["convert", "--system", "omop", url, str(tmp_path / "x")], obj={})
    assert result.exit_code == 2, result.output
    assert "cannot connect" in result.output
    assert wrong not in result.output
    assert pg.password not in result.output
    assert not (tmp_path / "x").exists()
