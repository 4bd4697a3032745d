"""journalkonvert scan: profiles of real sources (Synthea files, hand-made legacy files, SQLite), no values of
sensitive columns in any rendering, encodings detected, a draft mapping that loads, bounded memory."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from converters.mapping import load_mapping
from converters.scan import ScanResult, detect_encoding, draft_mapping, scan_source
from converters.scan_columns import DISTINCT_CAP, value_shape
from converters.scan_counting import BoundedCounter, HyperLogLog
from converters.scan_sensitivity import classify, name_words
from reports.scan_render import render_html, render_json

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def synthea_scan(synthea_dir: Path) -> ScanResult:
    return scan_source("synthea-csv", synthea_dir)


@pytest.fixture(scope="module")
def renderings(synthea_scan: ScanResult) -> tuple[str, str]:
    return render_json(synthea_scan), render_html(synthea_scan)


# --- the Synthea sample ------------------------------------------------------------------------


def test_every_table_and_row_is_counted(synthea_scan: ScanResult, synthea_dir: Path) -> None:
    expected = {p.stem: len(read_rows(p)) for p in sorted(synthea_dir.glob("*.csv"))}
    assert len(synthea_scan.tables) == 18
    assert {t.name: t.rows for t in synthea_scan.tables} == expected
    assert sum(t.rows for t in synthea_scan.tables) == 10_950
    assert synthea_scan.source == str(synthea_dir)
    for t in synthea_scan.tables:
        assert t.encoding == "utf-8" and t.delimiter == "," and t.problems == {}
        assert t.encoding_reason == "every byte is valid UTF-8"
        assert [c.name for c in t.columns] == list(read_rows(synthea_dir / f"{t.name}.csv")[0])
        assert all(c.rows == t.rows for c in t.columns)


def test_identifier_and_name_columns_are_sensitive_and_show_no_values(synthea_scan: ScanResult) -> None:
    patients = synthea_scan.table("patients")
    expected = {"Id": "identifier", "SSN": "identifier", "FIRST": "name", "LAST": "name", "ADDRESS": "name"}
    for name, kind in expected.items():
        c = patients.column(name)
        assert c.sensitive == kind, (name, c.sensitive_reason)
        assert c.top_values == () and c.min_value is None and c.max_value is None
        assert c.shapes and c.distinct == 27
    # keys without a telling name are recognised by their values
    for table, column in (("encounters", "PATIENT"), ("observations", "ENCOUNTER"), ("encounters", "PROVIDER")):
        c = synthea_scan.table(table).column(column)
        assert c.sensitive == "identifier" and "UUID" in (c.sensitive_reason or "")
    assert patients.column("SSN").shapes == (("999-99-9999", 27),)
    assert synthea_scan.table("encounters").column("Id").shapes == (("<uuid>", 604),)
    assert patients.column("GENDER").sensitive is None
    assert dict(patients.column("GENDER").top_values) == {"M": 14, "F": 13}


def test_renderings_contain_no_value_of_a_sensitive_column(renderings: tuple[str, str], synthea_dir: Path) -> None:
    patients = read_rows(synthea_dir / "patients.csv")
    secrets = {row[c] for row in patients for c in ("Id", "SSN", "FIRST", "LAST", "ADDRESS", "DRIVERS", "PASSPORT")}
    secrets |= {row["Id"] for row in read_rows(synthea_dir / "encounters.csv")}
    secrets.discard("")
    assert len(secrets) > 700
    for text in renderings:
        leaked = sorted(s for s in secrets if s in text or json.dumps(s)[1:-1] in text)
        assert leaked == []
        assert UUID.search(text) is None  # no key of any table, whatever its column is called
        assert set(re.findall(r"\b\d{3}-\d{2}-\d{4}\b", text)) <= {"999-99-9999"}  # an SSN's shape, no SSN
    as_json, as_html = renderings
    assert as_html.startswith("<!DOCTYPE html>") and "<script" not in as_html and "http" not in as_html


def test_top_values_types_and_date_ranges(synthea_scan: ScanResult) -> None:
    category = synthea_scan.table("observations").column("CATEGORY")
    assert ("laboratory", 251) in category.top_values
    assert category.distinct_exact and category.inferred_type == "text"

    start = synthea_scan.table("encounters").column("START")
    assert start.inferred_type == "timestamp" and start.type_matches == 604
    assert start.date_format == "%Y-%m-%dT%H:%M:%SZ"
    assert start.date_range is not None
    low, high = start.date_range
    assert low < high and low.startswith("19") and high.startswith("20")

    birth = synthea_scan.table("patients").column("BIRTHDATE")
    assert birth.inferred_type == "date" and birth.date_format == "%Y-%m-%d"
    assert all(n > 1 for _, n in birth.top_values)  # single birth dates are never listed

    cost = synthea_scan.table("encounters").column("BASE_ENCOUNTER_COST")
    assert cost.inferred_type == "decimal" and (cost.min_value, cost.max_value) == ("77.49", "129.16")
    assert synthea_scan.table("encounters").column("CODE").inferred_type == "integer"
    zip_codes = synthea_scan.table("patients").column("ZIP")
    assert zip_codes.inferred_type == "text" and any("leading zeros" in n for n in zip_codes.notes)


def test_json_is_the_scan_as_data(synthea_scan: ScanResult, renderings: tuple[str, str]) -> None:
    data = json.loads(renderings[0])
    assert data == synthea_scan.to_dict()
    assert data["total_rows"] == 10_950 and data["settings"]["distinct_cap"] == DISTINCT_CAP
    assert render_json(synthea_scan) == renderings[0]  # deterministic


def test_draft_mapping_loads_and_lists_every_column(synthea_scan: ScanResult, tmp_path: Path) -> None:
    text = draft_mapping(synthea_scan)
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.system == "synthea-csv-draft"
    assert (mapping.source.encoding, mapping.source.delimiter) == ("utf-8", ",")
    assert [t.name for t in mapping.tables] == [t.name for t in synthea_scan.tables]
    blocks = re.split(r"\n  (?=\")", text)
    for t in synthea_scan.tables:
        table = mapping.table(t.name)
        assert table is not None and table.file == f"{t.name}.csv" and not table.targets
        assert table.preserve_reason.startswith("TODO")
        block = next(b for b in blocks if b.startswith(f'"{t.name}":'))
        for c in t.columns:
            assert re.search(rf"#   {re.escape(c.name)}: {c.inferred_type}\b.*# unmapped", block), c.name
    assert '#   START: timestamp "%Y-%m-%dT%H:%M:%SZ"' in text
    assert "# key: Id" in text


# --- hand-made legacy files ---------------------------------------------------------------------


def write_folder(folder: Path, name: str, text: str, encoding: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))
    return folder


LEGACY = (
    "lopenr;lag;sted;dato;postnr\r\n"
    "1;Bjørn;Søre Ålesund;31.01.2020;0150\r\n"
    "2;Bjørn;Søre Ålesund;01.02.2020;0151\r\n"
    "3;Ørn;Nordre Æsøy;15.03.2021;5003\r\n"
    "4;Ørn;Søre Ålesund;16.03.2021;5003\r\n"
)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_latin1_file_is_detected_and_read_right(tmp_path: Path, encoding: str) -> None:
    folder = write_folder(tmp_path / "src", "besok.csv", LEGACY, encoding)
    assert detect_encoding(folder / "besok.csv")[0] in ("cp1252", "iso8859-1")
    table = scan_source("csv", folder).table("besok")
    assert table.encoding in ("cp1252", "iso8859-1") and table.delimiter == ";"
    assert "not valid UTF-8" in (table.encoding_reason or "")
    assert table.rows == 4 and table.problems == {}
    assert dict(table.column("lag").top_values) == {"Bjørn": 2, "Ørn": 2}
    assert ("Søre Ålesund", 3) in table.column("sted").top_values
    assert sum(c.mojibake for c in table.columns) == 0
    dato = table.column("dato")
    assert dato.inferred_type == "date" and dato.date_format == "%d.%m.%Y"
    assert dato.date_range == ("2020-01-31", "2021-03-16")
    assert table.column("postnr").inferred_type == "text"  # 0150 is a postal code, not 150
    assert table.column("lopenr").sensitive == "identifier"


def test_a_cp865_file_is_detected_as_cp865(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "src", "besok.csv", LEGACY, "cp865")
    table = scan_source("csv", folder).table("besok")
    assert table.encoding == "cp865"
    assert ("Søre Ålesund", 3) in table.column("sted").top_values


def test_a_given_encoding_is_used_and_wrong_decoding_shows(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "src", "besok.csv", LEGACY, "cp865")
    table = scan_source("csv", folder, encoding="cp1252", delimiter=";").table("besok")
    assert (table.encoding, table.encoding_reason) == ("cp1252", "given by the user")
    assert table.rows == 0 and table.problems == {"encoding_error": 4}  # cp865's Å and Ø are not cp1252
    folder = write_folder(tmp_path / "lower", "lag.csv", "lag\nBjørn\nBjørn\nKåre\nKari\n", "cp865")
    assert scan_source("csv", folder, encoding="cp1252").table("lag").column("lag").mojibake == 3  # Bj›rn, K†re
    assert scan_source("csv", folder, encoding="latin-1").table("lag").column("lag").mojibake == 3  # C1 controls
    assert scan_source("csv", folder).table("lag").column("lag").mojibake == 0


def test_double_encoded_utf8_is_counted_as_mojibake(tmp_path: Path) -> None:
    text = "id,fornavn,by,kommentar\n1,BjÃ¸rn,TromsÃ¸,ok\n2,Kari,Bergen,ok\n3,PÃ¥l,Ã…lesund,ok\n"
    folder = write_folder(tmp_path / "src", "p.csv", text, "utf-8")
    table = scan_source("csv", folder).table("p")
    assert table.encoding == "utf-8"
    assert table.column("fornavn").mojibake == 2
    assert table.column("by").mojibake == 2
    assert table.column("kommentar").mojibake == 0
    assert any("wrong encoding" in n for n in table.column("by").notes)
    assert "Bj" not in render_json(scan_source("csv", folder))  # fornavn is a name column


def test_html_escapes_everything_from_the_source(tmp_path: Path) -> None:
    text = 'kode,"<b>x</b>"\n"<script>alert(1)</script>",1\n"<script>alert(1)</script>",2\n'
    folder = write_folder(tmp_path / "src", "a&b.csv", text, "utf-8")
    page = render_html(scan_source("csv", folder))
    assert "<script" not in page and "<b>x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a&amp;b" in page


def test_values_with_eleven_digits_are_identifiers_whatever_the_column_is_called(tmp_path: Path) -> None:
    rows = "".join(f"{i},0101{i % 10}0{i:05d},{'J' if i % 2 else 'N'}\n" for i in range(30))
    folder = write_folder(tmp_path / "src", "x.csv", "a,b,c\n" + rows, "utf-8")
    table = scan_source("csv", folder).table("x")
    assert table.column("b").sensitive == "identifier" and "11-digit" in (table.column("b").sensitive_reason or "")
    assert table.column("c").inferred_type == "boolean"
    assert table.column("a").sensitive == "identifier"  # 30 unique integers: a key
    assert set(re.findall(r"\d{11}", render_json(scan_source("csv", folder)))) == {"99999999999"}  # shape only


# --- a database ---------------------------------------------------------------------------------


def test_a_sqlite_database_is_scanned_with_its_nulls(tmp_path: Path) -> None:
    db = tmp_path / "epj.db"
    con = sqlite3.connect(db)
    con.execute("create table kontakt (id integer primary key, pasient text, dato text, kode text, belop real)")
    con.executemany(
        "insert into kontakt values (?, ?, ?, ?, ?)",
        [
            (1, "Ola Nordmann", "2021-03-04 10:15:00", "A01", 120.5),
            (2, None, "2021-03-05 11:00:00", "A01", None),
            (3, "Kari Nordmann", None, "B02", 80.0),
            (4, None, "2022-01-01 08:30:00", "A01", 99.9),
        ],
    )
    con.execute("create table tom (x text)")
    con.commit()
    con.close()
    result = scan_source("sql", f"sqlite:///{db}")
    assert result.system == "sql" and result.source == f"sqlite:///{db}"
    assert [t.name for t in result.tables] == ["kontakt", "tom"]
    kontakt = result.table("kontakt")
    assert kontakt.rows == 4 and kontakt.encoding is None and kontakt.file is None
    assert kontakt.column("pasient").nulls == 2 and kontakt.column("pasient").empties == 0
    assert kontakt.column("dato").nulls == 1
    assert kontakt.column("dato").inferred_type == "timestamp"
    assert kontakt.column("dato").date_range == ("2021-03-04T10:15:00", "2022-01-01T08:30:00")
    assert kontakt.column("belop").nulls == 1 and kontakt.column("belop").inferred_type == "decimal"
    assert dict(kontakt.column("kode").top_values) == {"A01": 3, "B02": 1}
    assert kontakt.column("pasient").sensitive == "free_text" and kontakt.column("pasient").top_values == ()
    assert result.table("tom").rows == 0
    assert "Nordmann" not in render_json(result)
    draft = tmp_path / "draft.yaml"
    draft.write_text(draft_mapping(result), encoding="utf-8")
    assert load_mapping(draft).table("kontakt") is not None


# --- bounded memory -----------------------------------------------------------------------------


def test_a_large_high_cardinality_file_is_counted_approximately(tmp_path: Path) -> None:
    n = 200_000
    folder = tmp_path / "big"
    folder.mkdir()
    with (folder / "stor.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.write("lopenr,ref,kategori\n")
        fh.writelines(f"{i},R{i * 7919 % 1_000_003:07d}x,{'abc'[i % 3]}\n" for i in range(n))
    table = scan_source("csv", folder).table("stor")
    assert table.rows == n
    for name in ("lopenr", "ref"):
        c = table.column(name)
        assert not c.distinct_exact, name
        assert abs(c.distinct - n) < 0.03 * n, (name, c.distinct)
        assert any("estimate" in note for note in c.notes)
    kategori = table.column("kategori")
    assert kategori.distinct_exact and dict(kategori.top_values) == {"a": 66_667, "b": 66_667, "c": 66_666}


# --- the pieces ---------------------------------------------------------------------------------


def test_value_shapes() -> None:
    assert value_shape("01019012345") == "99999999999"
    assert value_shape("Bjørn") == "Aaaaa"
    assert value_shape("2020-01-31") == "9999-99-99"
    assert value_shape("Łukasz Δ") == "Aaaaaa A"
    assert value_shape("x" * 30) == "a" * 20 + "…"
    assert value_shape("3edac2e3-d223-6fae-d515-daf96ef6bc76") == "<uuid>"


def test_column_names_and_classification() -> None:
    assert name_words("PatientId") == ["patient", "id"]
    assert name_words("FØDSELSNUMMER") == ["fødselsnummer"]
    assert name_words("pasient_navn") == ["pasient", "navn"]
    common = {"non_empty": 100, "distinct": 50, "uuids": 0, "eleven_digits": 0, "with_space": 0, "with_digit": 100}
    assert classify("PATIENTID", inferred_type="text", avg_length=36, **common)[0] == "identifier"
    assert classify("fnr", inferred_type="date", avg_length=11, **common)[0] == "identifier"
    assert classify("starttid", inferred_type="timestamp", avg_length=19, **common)[0] is None
    assert classify("LAST_VISIT", inferred_type="date", avg_length=10, **common)[0] is None
    assert classify("etternavn", inferred_type="text", avg_length=8, **common)[0] == "name"
    assert classify("notat", inferred_type="text", avg_length=120, **common)[0] == "free_text"
    assert classify("kode", inferred_type="text", avg_length=4, **common)[0] is None


def test_bounded_counter_and_sketch() -> None:
    counter = BoundedCounter(cap=3)
    counter.add(["a", "b"], [5, 1])
    assert counter.exact and counter.most_common(1) == [("a", 5)]
    counter.add(["c", "d", "e", "f", "g"], [1, 1, 1, 1, 2])
    counter.prune()
    assert not counter.exact and len(counter.counts) == 3 and counter.most_common(2) == [("a", 5), ("g", 2)]
    sketch = HyperLogLog()
    rng = np.random.default_rng(7)
    sketch.add(rng.integers(0, 2**64, size=100_000, dtype=np.uint64))
    assert abs(sketch.estimate() - 100_000) < 3_000


def test_draft_mapping_of_mixed_files_takes_the_common_encoding_and_notes_the_odd_one(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "src", "a.csv", LEGACY, "cp1252")
    write_folder(folder, "b.csv", LEGACY, "cp1252")
    write_folder(folder, "c.txt", "kode,tekst\nA1,Øre\n", "utf-8")
    result = scan_source("csv", folder)
    text = draft_mapping(result)
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    mapping = load_mapping(path)
    assert (mapping.source.encoding, mapping.source.delimiter) == ("cp1252", ";")
    assert [(t.name, t.file) for t in mapping.tables] == [("a", "a.csv"), ("b", "b.csv"), ("c", "c.txt")]
    assert "# NOTE: c.txt looked like utf-8, not cp1252" in text
    assert "# NOTE: c.txt is separated by ',', not ';'" in text
    assert '#   dato: date "%d.%m.%Y"' in text


def test_a_column_named_identifier_is_sensitive_even_with_short_values(tmp_path: Path) -> None:
    import sqlite3

    from converters.scan import scan_source

    db = tmp_path / "ids.db"
    con = sqlite3.connect(db)
    con.execute("create table patient_identifier (patient_identifier_id integer primary key, identifier text)")
    con.executemany("insert into patient_identifier values (?, ?)", [(1, "101"), (2, "101-6"), (3, "7TU-8")])
    con.commit()
    con.close()
    result = scan_source("sql", f"sqlite:///{db}")
    column = result.table("patient_identifier").column("identifier")
    assert column.sensitive == "identifier"
    assert not column.top_values
