"""The MariaDB test helper (tests/mariadb_server.py): a real server on loopback, and the DBUnit loader.

One server is started for the module's tests (session fixture). The tests skip, with the reason,
where MariaDB is not installed and cannot be installed, or pymysql is missing; with
``JK_REQUIRE_DB=1`` (CI) they fail instead.
"""

from __future__ import annotations

import datetime
import importlib.util
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from mariadb_server import (
    KNOWN_SCHEMA_GAPS,
    OPENMRS_DATASET,
    MariaDbServer,
    MariaDbUnavailable,
    db_required,
    dbunit_value,
    java_lenient_timestamp,
    load_dbunit_xml,
    load_openmrs,
    mariadb_server,
    mariadb_server_fixture,
    port_is_open,
)
from sqlalchemy.exc import OperationalError

OPENMRS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "openmrs-core-testdata"

if importlib.util.find_spec("pymysql") is None:
    if db_required():
        raise RuntimeError("JK_REQUIRE_DB is set, but pymysql is not installed: pip install pymysql")
    pytest.skip("pymysql is not installed (pip install pymysql)", allow_module_level=True)

mariadb = mariadb_server_fixture()


def _scalar(server: MariaDbServer, sql: str, *, database: str | None = None, password: str | None = None) -> object:
    engine = sa.create_engine(server.url_for(password=password, database=database))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


# --- the server --------------------------------------------------------------------------------------


def test_the_server_starts_on_loopback_with_its_own_folder(mariadb: MariaDbServer) -> None:
    assert mariadb.running
    assert port_is_open(mariadb.port)
    assert mariadb.base_dir is not None and mariadb.socket_path.is_socket()
    assert mariadb.sql("select @@bind_address") == "127.0.0.1"
    assert mariadb.sql("select @@skip_networking") == "0"
    assert mariadb.sql("select @@datadir").rstrip("/") == str(mariadb.data_dir)
    assert 0 < mariadb.startup_seconds < 60
    print(f"MariaDB {mariadb.sql('select version()')} started in {mariadb.startup_seconds:.2f} s")


def test_the_test_user_logs_in_over_tcp_with_its_password(mariadb: MariaDbServer) -> None:
    assert mariadb.url == f"mysql+pymysql://jk:{mariadb.password}@127.0.0.1:{mariadb.port}/openmrs"
    assert _scalar(mariadb, "select current_user()") == "jk@127.0.0.1"
    assert _scalar(mariadb, "select database()") == "openmrs"


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_a_wrong_or_missing_password_is_refused(mariadb: MariaDbServer, password: str) -> None:
    with pytest.raises(OperationalError, match="Access denied"):
        _scalar(mariadb, "select 1", password=password)


def test_root_can_log_in_only_through_the_socket(mariadb: MariaDbServer) -> None:
    # the passwordless TCP root accounts of mariadb-install-db were dropped before the first connection
    accounts = mariadb.sql("select user, host from mysql.user where user in ('root', '') order by host", database="")
    assert accounts.splitlines() == ["root\tlocalhost"]
    engine = sa.create_engine(f"mysql+pymysql://root@127.0.0.1:{mariadb.port}/mysql")
    try:
        with pytest.raises(OperationalError, match="Access denied"), engine.connect():
            pass
    finally:
        engine.dispose()


def test_sql_files_and_counts(mariadb: MariaDbServer, tmp_path: Path) -> None:
    mariadb.create_database("scratch_counts")
    script = tmp_path / "t.sql"
    script.write_text(
        "CREATE TABLE t (id int PRIMARY KEY, name varchar(20));\nINSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL);\n",
        encoding="utf-8",
    )
    mariadb.load_sql_file(script, database="scratch_counts")
    assert mariadb.table_counts(database="scratch_counts") == {"t": 3}
    assert _scalar(mariadb, "select count(*) from t", database="scratch_counts") == 3


def test_a_server_stops_and_leaves_nothing_behind() -> None:
    try:
        with mariadb_server() as server:
            port, base = server.port, server.base_dir
            assert base is not None and server.data_dir.is_dir()
            assert port_is_open(port)
            assert server.sql("select 1") == "1"
    except MariaDbUnavailable as exc:
        if db_required():
            raise
        pytest.skip(f"MariaDB test server unavailable: {exc}")
    assert not port_is_open(port)
    assert not base.exists()
    assert not server.running


def test_unavailable_mariadb_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import mariadb_server as module

    monkeypatch.setattr(module, "find_programs", lambda: None)
    with pytest.raises(MariaDbUnavailable, match="apt-get install -y mariadb-server"):
        MariaDbServer(install=False).start()


@pytest.mark.parametrize(("value", "required"), [("", False), ("0", False), ("1", True), ("yes", True)])
def test_jk_require_db_turns_skips_into_failures(monkeypatch: pytest.MonkeyPatch, value: str, required: bool) -> None:
    monkeypatch.setenv("JK_REQUIRE_DB", value)
    assert db_required() is required


# --- the DBUnit loader --------------------------------------------------------------------------------


def test_java_lenient_timestamps_roll_over_like_timestamp_valueof() -> None:
    assert java_lenient_timestamp("2012-04-03 31:41:25.3") == datetime.datetime(2012, 4, 4, 7, 41, 25, 300000)
    assert java_lenient_timestamp("2008-02-30 00:00:00") == datetime.datetime(2008, 3, 1)
    assert java_lenient_timestamp("2008-13-01 00:00:00") is None
    assert java_lenient_timestamp("yesterday") is None


def test_dbunit_values() -> None:
    from mariadb_server import _Column

    flag, date, stamp, text = _Column("tinyint", 0), _Column("date", 0), _Column("datetime", 0), _Column("varchar", 0)
    assert dbunit_value("[NULL]", text) is None
    assert dbunit_value("NULL", text) == "NULL"  # only the marker is NULL, the word is text
    assert (dbunit_value("true", flag), dbunit_value("FALSE", flag), dbunit_value("1", flag)) == (1, 0, "1")
    assert dbunit_value("1965-09-30 12:34:56.7", date) == "1965-09-30"
    assert dbunit_value("2008-08-18 14:09:35.0", stamp) == "2008-08-18 14:09:35"
    adjusted: list[str] = []
    assert dbunit_value("2012-04-03 31:41:25.3", stamp, adjusted) == "2012-04-04 07:41:25"
    assert adjusted == ["'2012-04-03 31:41:25.3' -> '2012-04-04 07:41:25.300000'"]


def test_dbunit_refresh_updates_inserts_and_lets_colliding_rows_give_way(
    mariadb: MariaDbServer, tmp_path: Path
) -> None:
    mariadb.create_database("scratch_dbunit")
    mariadb.sql(
        "CREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL, flag tinyint(1) NOT NULL DEFAULT 0,"
        " born date, seen datetime, note varchar(20), UNIQUE KEY t_name (name));"
        "INSERT INTO t VALUES (1, 'one', 0, NULL, NULL, 'kept'), (5, 'DUP', 0, NULL, NULL, NULL);",
        database="scratch_dbunit",
    )
    data = tmp_path / "set.xml"
    data.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<dataset>\n"
        '  <t id="1" name="uno" flag="true" seen="2012-04-03 31:41:25.3"/>\n'
        '  <t id="2" name="dup" born="1965-09-30 12:34:56.7" note="[NULL]"/>\n'
        '  <t id="3" name="it&apos;s" note="NULL"/>\n'
        '  <not_in_schema a="1"/>\n'
        "</dataset>\n",
        encoding="utf-8",
    )
    done = load_dbunit_xml(mariadb, data, database="scratch_dbunit")
    assert done.rows == {"t": 3}
    assert done.skipped == {"not_in_schema": 1}
    assert done.adjusted == ["t: '2012-04-03 31:41:25.3' -> '2012-04-04 07:41:25.300000'"]
    assert done.gave_way == ["t: the schema dump's row with name='dup' (t_name) gave way"]
    rows = mariadb.sql(
        "select id, name, flag, ifnull(born, '-'), ifnull(seen, '-'), ifnull(note, '-') from t order by id",
        database="scratch_dbunit",
    )
    assert [line.split("\t") for line in rows.splitlines()] == [
        ["1", "uno", "1", "-", "2012-04-04 07:41:25", "kept"],  # REFRESH: updated, unnamed columns kept
        ["2", "dup", "0", "1965-09-30", "-", "-"],  # inserted; 'DUP' (id 5) gave way (case-insensitive key)
        ["3", "it's", "0", "-", "-", "NULL"],  # the text NULL is not the marker
    ]


def test_external_entities_are_not_read(mariadb: MariaDbServer, tmp_path: Path) -> None:
    from lxml import etree

    data = tmp_path / "xxe.xml"
    data.write_text(
        '<!DOCTYPE dataset [<!ENTITY x SYSTEM "file:///etc/hostname">]><dataset><t id="&x;"/></dataset>',
        encoding="utf-8",
    )
    with pytest.raises(etree.XMLSyntaxError, match="external entity"):
        load_dbunit_xml(mariadb, data)


def test_an_attribute_the_table_lacks_is_an_error(mariadb: MariaDbServer, tmp_path: Path) -> None:
    mariadb.create_database("scratch_bad")
    mariadb.sql("CREATE TABLE t (id int PRIMARY KEY);", database="scratch_bad")
    data = tmp_path / "bad.xml"
    data.write_text('<dataset><t id="1" nosuch="x"/></dataset>', encoding="utf-8")
    with pytest.raises(ValueError, match="table t has no column"):
        load_dbunit_xml(mariadb, data, database="scratch_bad")


# --- OpenMRS --------------------------------------------------------------------------------------------


def _dataset_rows() -> dict[str, int]:
    text = (OPENMRS_DIR / OPENMRS_DATASET).read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for name in re.findall(r"^\s*<(\w+)\s", text, flags=re.MULTILINE):
        if name != "dataset":
            counts[name] = counts.get(name, 0) + 1
    return counts


def test_openmrs_schema_and_data_set_load(mariadb: MariaDbServer) -> None:
    if not (OPENMRS_DIR / OPENMRS_DATASET).is_file():
        pytest.skip("../shared/data/openmrs-core-testdata is not available")
    mariadb.create_database("openmrs_load")
    counts = load_openmrs(mariadb, OPENMRS_DIR, database="openmrs_load")
    assert len(counts) == 116  # the tables of the 2.5.x schema dump
    expected = _dataset_rows()
    for table, n in expected.items():
        if table in KNOWN_SCHEMA_GAPS:
            assert table not in counts
        else:  # the dump's own metadata rows may come on top
            assert counts[table] >= n, table
    # tables the dump leaves empty hold exactly the data set's rows
    for table in ("patient", "encounter", "obs", "orders", "drug_order", "visit", "patient_identifier"):
        assert counts[table] == expected[table], table
    assert counts["person"] == expected["person"] == 12  # the dump's admin person is person 1 of the data set
    assert _scalar(mariadb, "select count(*) from patient", database="openmrs_load") == 6
