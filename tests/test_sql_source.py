"""SQL sources: a real SQLite database through SQLAlchemy, read-only, streamed, deterministic."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import convert
from converters.pipeline import ConversionOptions, run_conversion
from converters.sql_source import array_text, to_text
from formats.errors import SourceError
from formats.package import open_package
from mappings import mapping_path
from reports.query import run_query
from validation import validate_archive


def load_csv_folder(folder: Path, db: Path) -> dict[str, int]:
    """Load every CSV file of ``folder`` into SQLite, all columns text; return rows per table."""
    con = sqlite3.connect(db)
    counts = {}
    for f in sorted(folder.glob("*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        head = rows[0]
        cols = ", ".join(f'"{h}" text' for h in head)
        con.execute(f'create table "{f.stem}" ({cols})')
        con.executemany(f'insert into "{f.stem}" values ({",".join("?" * len(head))})', rows[1:])
        counts[f.stem] = len(rows) - 1
    con.commit()
    con.close()
    return counts


@pytest.fixture(scope="module")
def synthea_db(synthea_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    db = tmp_path_factory.mktemp("sql") / "synthea.db"
    return db, load_csv_folder(synthea_dir, db)


def convert_db(db: Path, archive: Path, **options: object) -> object:
    return run_conversion(
        ConversionOptions(
            system="sql", source=f"sqlite:///{db}", archive=archive, mapping=mapping_path("synthea-csv"), **options
        )
    )


def test_a_database_converts_like_the_files_it_was_loaded_from(
    synthea_db: tuple[Path, dict[str, int]], synthea_package: Path, tmp_path: Path
) -> None:
    db, counts = synthea_db
    result = convert_db(db, tmp_path / "a")
    archive = tmp_path / "a"
    assert validate_archive(archive).valid
    summary = json.loads((archive / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    assert summary["balanced"]
    assert {t["source_table"]: t["source_rows"] for t in summary["tables"]} == counts
    from_files = open_package(synthea_package)
    from_db = open_package(archive)
    for table in from_files.canonical_tables():
        sql = f"select count(*) as n from {table}"
        assert run_query(from_db, sql).to_pylist() == run_query(from_files, sql).to_pylist(), table
    same = "select patient_id, birth_date, family_name, sex_code from patient order by patient_id"
    assert run_query(from_db, same).to_pylist() == run_query(from_files, same).to_pylist()
    refs = run_query(from_db, "select min(source_ref) as r from patient").to_pylist()[0]["r"]
    assert refs.startswith("patients#row=")
    assert result is not None


def test_two_conversions_of_one_database_are_identical(synthea_db: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    db, _ = synthea_db
    convert_db(db, tmp_path / "one")
    convert_db(db, tmp_path / "two")
    one = (tmp_path / "one" / "manifest-sha256.txt").read_text()
    two = (tmp_path / "two" / "manifest-sha256.txt").read_text()
    assert one == two


def test_the_database_is_opened_read_only(synthea_db: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    db, _ = synthea_db
    before = db.read_bytes()
    convert_db(db, tmp_path / "ro")
    assert db.read_bytes() == before


def test_a_password_given_on_the_command_line_is_written_nowhere(
    synthea_db: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    db, _ = synthea_db
    secret = "hemmelig-Passord-4711"
    archive = tmp_path / "pw"
    result = CliRunner().invoke(
        convert.cli,
        [
            "convert",
            "--system",
            "sql",
            "--mapping",
            str(mapping_path("synthea-csv")),
            "--db-password",
            secret,
            f"sqlite:///{db}",
            str(archive),
        ],
        obj={},
    )
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    for path in archive.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    secret = "s3cr3t-pw"
    with pytest.raises(SourceError) as info:
        run_conversion(
            ConversionOptions(
                system="sql",
                source=f"postgresql://jk:{secret}@127.0.0.1:1/epj",
                archive=tmp_path / "x",
                mapping=mapping_path("synthea-csv"),
            )
        )
    text = str(info.value)
    assert secret not in text
    assert "127.0.0.1" in text or "driver" in text
    assert not (tmp_path / "x").exists()


def test_a_file_that_is_no_database_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        run_conversion(
            ConversionOptions(
                system="sql", source="not a url", archive=tmp_path / "x", mapping=mapping_path("synthea-csv")
            )
        )


def test_null_and_empty_text_stay_apart(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    con = sqlite3.connect(db)
    con.execute("create table patients (Id text primary key, BIRTHDATE text, FIRST text, MAIDEN text)")
    con.execute("insert into patients values ('p1', '2000-01-02', 'Åse', NULL)")
    con.execute("insert into patients values ('p2', '2001-02-03', 'Bjørn', '')")
    con.commit()
    con.close()
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "mapping_version: 1\nsystem: tiny\nsource: {patient_table: patients}\ntables:\n  patients:\n"
        "    patient: Id\n    targets:\n      - table: patient\n        fields:\n"
        "          patient_id: Id\n          birth_date: BIRTHDATE\n          given_name: FIRST\n",
        encoding="utf-8",
    )
    run_conversion(ConversionOptions(system="sql", source=f"sqlite:///{db}", archive=tmp_path / "a", mapping=mapping))
    raw = run_query(open_package(tmp_path / "a"), "select source_ref, MAIDEN from raw_patients order by 1").to_pylist()
    assert raw == [{"source_ref": "patients#row=2", "MAIDEN": None}, {"source_ref": "patients#row=3", "MAIDEN": ""}]
    names = run_query(open_package(tmp_path / "a"), "select given_name from patient order by 1").to_pylist()
    assert names == [{"given_name": "Bjørn"}, {"given_name": "Åse"}]


def test_driver_values_become_canonical_text() -> None:
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa

    assert to_text([1, None, 3]).to_pylist() == ["1", None, "3"]
    assert to_text([Decimal("77.49")]).to_pylist() == ["77.49"]
    assert to_text([dt.date(2020, 1, 2)]).to_pylist() == ["2020-01-02"]
    assert to_text([dt.datetime(2020, 1, 2, 3, 4, 5), dt.datetime(2020, 1, 2, 3, 4, 5, 120)]).to_pylist() == [
        "2020-01-02 03:04:05",
        "2020-01-02 03:04:05.000120",
    ]
    oslo = dt.timezone(dt.timedelta(hours=1))
    assert to_text([dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=oslo)]).to_pylist() == ["2020-01-02 02:04:05Z"]
    assert to_text([True, False]).to_pylist() == ["true", "false"]
    assert to_text([b"\x00\xff"]).to_pylist() == ["base64:AP8="]
    assert to_text([1, "two"]).to_pylist() == ["1", "two"]  # SQLite's dynamic typing
    assert array_text(pa.nulls(2)).to_pylist() == [None, None]


def _latin1_db(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "legacy.db"
    con = sqlite3.connect(db)
    con.execute("create table patients (Id text primary key, BIRTHDATE text, FIRST text)")
    con.execute("insert into patients values ('p1', '2000-01-02', 'Ola')")
    con.execute("insert into patients values ('p2', '2001-02-03', CAST(? AS TEXT))", ("Bjørn".encode("latin-1"),))
    con.commit()
    con.close()
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "mapping_version: 1\nsystem: tiny\nsource: {patient_table: patients}\ntables:\n  patients:\n"
        "    patient: Id\n    targets:\n      - table: patient\n        fields:\n"
        "          patient_id: Id\n          birth_date: BIRTHDATE\n          given_name: FIRST\n",
        encoding="utf-8",
    )
    return db, mapping


def test_legacy_code_page_text_in_sqlite_is_rejected_alone_not_fatal(tmp_path: Path) -> None:
    import base64

    db, mapping = _latin1_db(tmp_path)
    result = run_conversion(
        ConversionOptions(system="sql", source=f"sqlite:///{db}", archive=tmp_path / "a", mapping=mapping)
    )
    assert result.tables["patient"] == 1
    [reject] = run_query(open_package(tmp_path / "a"), "select * from rejects").to_pylist()
    assert reject["reason_code"] == "encoding_error"
    assert reject["field"] == "FIRST"
    assert reject["source_ref"] == "patients#row=3"
    assert "Bj\xf8rn".encode("latin-1") in base64.b64decode(reject["raw_base64"])
    assert validate_archive(tmp_path / "a").valid


def test_the_declared_encoding_reads_legacy_sqlite_text(tmp_path: Path) -> None:
    db, mapping = _latin1_db(tmp_path)
    result = run_conversion(
        ConversionOptions(
            system="sql", source=f"sqlite:///{db}", archive=tmp_path / "a", mapping=mapping, encoding="latin-1"
        )
    )
    assert result.tables["patient"] == 2
    names = run_query(open_package(tmp_path / "a"), "select given_name from patient order by 1").to_pylist()
    assert names == [{"given_name": "Bjørn"}, {"given_name": "Ola"}]
