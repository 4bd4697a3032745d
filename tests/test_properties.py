"""Property-based tests of the value kernels, the delimited reader and the whole pipeline.

Each property is checked on modest numbers of generated examples so the file stays fast; the
round trip through a real conversion runs only a handful of examples.
"""

from __future__ import annotations

import csv
import math
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from converters.csv_source import ROW_COLUMN, read_delimited
from converters.mapping import ValueRule
from converters.pipeline import ConversionOptions, run_conversion
from converters.transform import evaluate, translate
from formats.model import TABLES
from formats.package import open_package
from formats.table_sink import read_csv_twin
from reports.query import run_query

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y%m%d", "%d/%m/%Y")
OSLO = ZoneInfo("Europe/Oslo")
UTC_TS = pa.timestamp("us", tz="UTC")
AMOUNT = pa.decimal128(18, 4)
NORDIC = "æøåÆØÅé"

dates = st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 12, 31))


def _eval(values: list[str], target: pa.DataType, **kw: Any):
    rule = ValueRule(path="x", target_type=target, column="c", **kw)
    return evaluate(rule, {"c": pa.array(values, pa.string())}, len(values))


def _errors(result) -> list[str | None]:
    n = len(result.values)
    return result.errors.to_pylist() if result.errors is not None else [None] * n


def _flags(result) -> list[bool]:
    n = len(result.values)
    return result.flags.to_pylist() if result.flags is not None else [False] * n


# --------------------------------------------------------------------------------------- dates


@FAST
@given(day=dates, fmt=st.sampled_from(DATE_FORMATS))
def test_formatted_dates_parse_back(day: date, fmt: str) -> None:
    result = _eval([day.strftime(fmt)], pa.date32(), formats=(fmt,))
    assert result.values.to_pylist() == [day]
    assert result.errors is None


@FAST
@given(day=dates, fmt=st.sampled_from(DATE_FORMATS), order=st.permutations(DATE_FORMATS))
def test_any_of_several_formats_parses(day: date, fmt: str, order: list[str]) -> None:
    result = _eval([day.strftime(fmt)], pa.date32(), formats=tuple(order))
    assert result.values.to_pylist() == [day]
    assert result.errors is None


_no_digits = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs")),
    min_size=1,
    max_size=20,
)


@st.composite
def _date_with_letter(draw: st.DrawFn) -> tuple[str, str]:
    """A valid date string with an ASCII letter inserted somewhere: never a date in its format."""
    fmt = draw(st.sampled_from(DATE_FORMATS))
    text = draw(dates).strftime(fmt)
    at = draw(st.integers(0, len(text)))
    letter = draw(st.sampled_from("abcxyzQTZ"))
    return text[:at] + letter + text[at:], fmt


@FAST
@given(text=_no_digits, fmt=st.sampled_from(DATE_FORMATS))
def test_text_without_digits_is_invalid_date(text: str, fmt: str) -> None:
    result = _eval([text], pa.date32(), formats=(fmt,))
    assert result.values.to_pylist() == [None]
    assert _errors(result) == ["invalid_date"]


@FAST
@given(case=_date_with_letter())
def test_date_with_a_letter_is_invalid_date(case: tuple[str, str]) -> None:
    text, fmt = case
    result = _eval([text], pa.date32(), formats=(fmt,))
    assert result.values.to_pylist() == [None]
    assert _errors(result) == ["invalid_date"]


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("2001-02-29", "%Y-%m-%d"), ("30.02.2000", "%d.%m.%Y"), ("20200431", "%Y%m%d")],
)
def test_impossible_calendar_date_is_invalid(text: str, fmt: str) -> None:
    result = _eval([text], pa.date32(), formats=(fmt,))
    assert _errors(result) == ["invalid_date"]
    assert result.values.to_pylist() == [None]


# ---------------------------------------------------------------------------------- timestamps


def _exists_in_oslo(naive: datetime) -> bool:
    """Whether the wall time occurs in Oslo (False inside the spring-forward gap)."""
    aware = naive.replace(tzinfo=OSLO)
    return aware.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) == naive


@FAST
@given(
    naive=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2037, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_naive_oslo_times_become_utc_instants(naive: datetime) -> None:
    assume(_exists_in_oslo(naive))
    result = _eval([naive.strftime("%Y-%m-%d %H:%M:%S")], UTC_TS, formats=("%Y-%m-%d %H:%M:%S",),
                   timezone="Europe/Oslo")
    # fold=0 is the earlier of two ambiguous wall times: the mapping's documented 'earliest' choice
    expected = naive.replace(tzinfo=OSLO).astimezone(UTC)
    assert result.errors is None
    assert result.values.to_pylist() == [expected]


def test_oslo_summer_time_after_2037() -> None:
    result = _eval(["2038-07-01 12:00:00"], UTC_TS, formats=("%Y-%m-%d %H:%M:%S",), timezone="Europe/Oslo")
    assert result.values.to_pylist() == [datetime(2038, 7, 1, 10, 0, tzinfo=UTC)]


def test_ambiguous_autumn_hour_takes_the_earliest_instant() -> None:
    result = _eval(["2021-10-31 02:30:00"], UTC_TS, formats=("%Y-%m-%d %H:%M:%S",), timezone="Europe/Oslo")
    assert result.values.to_pylist() == [datetime(2021, 10, 31, 0, 30, tzinfo=UTC)]  # 02:30 CEST


def test_spring_gap_time_is_kept_not_rejected() -> None:
    """02:30 does not exist on 2021-03-28 in Oslo; docs/mapping.md: it resolves to an earlier instant.

    Read as CEST it is 00:30Z, as CET 01:30Z; the value must not be rejected and must lie in that
    window and before the 01:00Z jump (pyarrow's 'earliest' gives 00:59:59.999999Z).
    """
    result = _eval(["2021-03-28 02:30:00"], UTC_TS, formats=("%Y-%m-%d %H:%M:%S",), timezone="Europe/Oslo")
    assert result.errors is None
    (value,) = result.values.to_pylist()
    assert datetime(2021, 3, 28, 0, 30, tzinfo=UTC) <= value < datetime(2021, 3, 28, 1, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------- numbers


@FAST
@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_round_trip(x: float) -> None:
    result = _eval([str(x)], pa.float64())
    assert result.errors is None
    (got,) = result.values.to_pylist()
    if math.isnan(x):
        assert math.isnan(got)
    else:
        assert got == x
        assert math.copysign(1.0, got) == math.copysign(1.0, x)


@FAST
@given(n=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integers_round_trip(n: int) -> None:
    result = _eval([str(n)], pa.int64())
    assert result.errors is None
    assert result.values.to_pylist() == [n]


@FAST
@given(d=st.decimals(min_value=Decimal("-99999999999999.9999"), max_value=Decimal("99999999999999.9999"),
                     places=4, allow_nan=False, allow_infinity=False), places=st.integers(0, 4))
def test_decimals_round_trip(d: Decimal, places: int) -> None:
    d = d.quantize(Decimal(1).scaleb(-places))
    assume(abs(d) < Decimal("1e14"))
    result = _eval([format(d, "f")], AMOUNT)
    assert result.errors is None
    assert result.values.to_pylist() == [d]


_not_numbers = st.text(min_size=1, max_size=15).filter(
    lambda s: s.strip() != "" and not any(ch.isdigit() for ch in s)
)


@FAST
@given(text=_not_numbers, target=st.sampled_from([pa.float64(), pa.int64(), AMOUNT]))
def test_non_numeric_text_is_invalid_number(text: str, target: pa.DataType) -> None:
    assume(text.strip().lower().lstrip("+-") not in {"nan", "inf", "infinity"})
    result = _eval([text], target)
    assert result.values.to_pylist() == [None]
    assert _errors(result) == ["invalid_number"]


def test_integer_out_of_range_is_rejected_not_raised() -> None:
    result = _eval(["1", "99999999999999999999"], pa.int64())
    assert _errors(result) == [None, "invalid_number"]
    assert result.values.to_pylist() == [1, None]


# --------------------------------------------------------------------------------------- codes

_codes = st.text(min_size=1, max_size=6)
_code_tables = st.dictionaries(_codes, st.one_of(st.none(), st.text(max_size=8)), max_size=6)


@st.composite
def _code_case(draw: st.DrawFn) -> tuple[dict[str, str | None], list[str | None]]:
    table = draw(_code_tables)
    pick = st.one_of(st.none(), _codes, *([st.sampled_from(sorted(table))] if table else []))
    return table, draw(st.lists(pick, min_size=1, max_size=10))


@FAST
@given(case=_code_case(), on_unknown=st.sampled_from(["keep", "flag", "null", "reject"]))
def test_translate_follows_the_code_table(
    case: tuple[dict[str, str | None], list[str | None]], on_unknown: str
) -> None:
    table, values = case
    result = translate(pa.array(values, pa.string()), tuple(table.items()), on_unknown)
    unknown = [v is not None and v not in table for v in values]
    out = result.values.to_pylist()
    for v, got, unk in zip(values, out, unknown, strict=True):
        if v is None:
            assert got is None
        elif not unk:
            assert got == table[v]
        elif on_unknown in ("keep", "flag"):
            assert got == v
        else:
            assert got is None
    if on_unknown == "reject":
        assert _errors(result) == ["unknown_code" if u else None for u in unknown]
        assert result.flags is None
    else:
        assert result.errors is None
        expected_flags = unknown if on_unknown in ("flag", "null") else [False] * len(values)
        assert _flags(result) == expected_flags
        if not any(expected_flags):
            assert result.flags is None


def test_reject_keeps_translated_values_of_good_rows() -> None:
    result = _eval(["M", "X", "F"], pa.string(), mapping=(("F", "female"), ("M", "male")), on_unknown="reject")
    assert _errors(result) == [None, "unknown_code", None]
    assert result.values.to_pylist()[0::2] == ["male", "female"]


# ---------------------------------------------------------------------------------- empty values

_ALL_TYPES = [pa.string(), pa.date32(), UTC_TS, pa.int64(), pa.float64(), AMOUNT, pa.bool_()]


@FAST
@given(target=st.sampled_from(_ALL_TYPES), n=st.integers(1, 5), required=st.booleans(),
       mapped=st.booleans())
def test_empty_string_is_null(target: pa.DataType, n: int, required: bool, mapped: bool) -> None:
    kw: dict[str, Any] = {"required": required}
    if pa.types.is_date(target) or pa.types.is_timestamp(target):
        kw["formats"] = ("%Y-%m-%d",)
    if mapped:
        kw["mapping"] = (("a", "b"),)
        kw["on_unknown"] = "flag"
    result = _eval([""] * n, target, **kw)
    assert result.values.type == target
    assert result.values.to_pylist() == [None] * n
    assert _flags(result) == [False] * n
    assert _errors(result) == (["missing_required"] * n if required else [None] * n)


@FAST
@given(values=st.lists(st.one_of(st.just(""), st.text(min_size=1, max_size=10)), min_size=1, max_size=10))
def test_required_flags_exactly_the_empty_rows(values: list[str]) -> None:
    result = _eval(values, pa.string(), required=True)
    assert result.values.to_pylist() == [v or None for v in values]
    assert _errors(result) == ["missing_required" if v == "" else None for v in values]


# ----------------------------------------------------------------------------------- encodings

_ALPHABET = st.sampled_from(list(NORDIC) + [chr(c) for c in range(32, 127)] + ["\n", "\r", "\t"])
_cells = st.lists(st.text(alphabet=_ALPHABET, max_size=12), min_size=1, max_size=12)


def _write_column(path: Path, values: list[str], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name"])
        writer.writerows([v] for v in values)


def _read_all(path: Path, encoding: str) -> tuple[list[str], list[int], list]:
    values: list[str] = []
    rows: list[int] = []
    problems = []
    for batch in read_delimited(path, encoding=encoding, delimiter=","):
        assert batch.table.column_names == ["name", ROW_COLUMN]
        values += batch.table.column("name").to_pylist()
        rows += batch.table.column(ROW_COLUMN).to_pylist()
        problems += batch.problems
    return values, rows, problems


@settings(max_examples=50, deadline=None)
@given(values=_cells, encoding=st.sampled_from(["cp865", "cp1252", "latin-1", "utf-8"]))
def test_declared_encoding_round_trips(values: list[str], encoding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "names.csv"
        _write_column(path, values, encoding)
        got, rows, problems = _read_all(path, encoding)
    assert problems == []
    assert got == values
    assert rows == list(range(2, len(values) + 2))


@settings(max_examples=50, deadline=None)
@given(values=_cells)
def test_latin1_read_as_utf8_rejects_exactly_the_non_ascii_rows(values: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "names.csv"
        _write_column(path, values, "latin-1")
        got, rows, problems = _read_all(path, "utf-8")
    bad = [i + 2 for i, v in enumerate(values) if not v.isascii()]
    good = [(i + 2, v) for i, v in enumerate(values) if v.isascii()]
    assert sorted(p.row_number for p in problems) == bad
    assert {p.reason for p in problems} <= {"encoding_error"}
    assert all(p.source_column == "name" and p.raw_base64 for p in problems)
    assert list(zip(rows, got, strict=True)) == good


# ------------------------------------------------------------------ source row -> package -> query

SYNTHEA_PATIENTS_HEADER = [
    "Id", "BIRTHDATE", "DEATHDATE", "SSN", "DRIVERS", "PASSPORT", "PREFIX", "FIRST", "LAST", "SUFFIX", "MAIDEN",
    "MARITAL", "RACE", "ETHNICITY", "GENDER", "BIRTHPLACE", "ADDRESS", "CITY", "STATE", "COUNTY", "ZIP", "LAT",
    "LON", "HEALTHCARE_EXPENSES", "HEALTHCARE_COVERAGE",
]


def test_hard_coded_synthea_header_matches_the_sample(synthea_dir: Path) -> None:
    with (synthea_dir / "patients.csv").open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == SYNTHEA_PATIENTS_HEADER


_names = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(NORDIC) + ['"', ",", "\n", "\r", "'", " ", ";"]),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=15,
)
_patients = st.lists(st.tuples(_names, _names, dates), min_size=1, max_size=4)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients=_patients)
def test_source_rows_survive_conversion_and_query(patients: list[tuple[str, str, date]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "export"
        source.mkdir()
        ids = [f"pasient'{i}" for i in range(len(patients))]
        with (source / "patients.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=SYNTHEA_PATIENTS_HEADER)
            writer.writeheader()
            for pid, (first, last, born) in zip(ids, patients, strict=True):
                writer.writerow({"Id": pid, "FIRST": first, "LAST": last, "BIRTHDATE": born.isoformat()})
        result = run_conversion(
            ConversionOptions(system="synthea-csv", source=source, archive=Path(tmp) / "package")
        )
        assert result.tables == {"patient": len(patients)}
        layout = open_package(result.archive)
        for pid, (first, last, born) in zip(ids, patients, strict=True):
            got = run_query(
                layout,
                "select given_name, family_name, birth_date from patient where patient_id = " + _sql_literal(pid),
            ).to_pylist()
            assert got == [{"given_name": first or None, "family_name": last or None, "birth_date": born}]
        schema = TABLES["patient"].schema()
        parquet = pq.read_table(layout.table("patient"))
        twin = read_csv_twin(layout.table("patient", ".csv"), schema)
        assert twin.schema.names == parquet.schema.names
        assert twin.schema.types == parquet.schema.types
        assert twin.to_pylist() == parquet.to_pylist()


def test_a_yes_no_value_that_is_not_a_known_word_is_an_invalid_boolean() -> None:
    from converters.transform import parse_boolean

    result = parse_boolean(pa.array(["ja", "nei", "kanskje", None]))
    assert result.values.to_pylist() == [True, False, None, None]
    assert result.errors is not None
    assert result.errors.to_pylist() == [None, None, "invalid_boolean", None]


@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10),
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%*()-_+", min_size=4),
)
def test_passwords_in_database_urls_are_redacted(user: str, secret: str) -> None:
    from formats.privacy import redact_secrets

    url = f"postgresql://{user}:{secret}@127.0.0.1:5432/epj"
    out = redact_secrets(f"convert --system sql {url} password={secret}")
    assert out == f"convert --system sql postgresql://{user}:***@127.0.0.1:5432/epj password=***"


def test_concat_of_all_empty_parts_keeps_the_row_as_null() -> None:
    from converters.mapping import ValueRule
    from converters.transform import evaluate

    rule = ValueRule(path="x", target_type=pa.string(), concat=("a", "b"), separator=" ")
    columns = {"a": pa.array(["Ola", "", "", None]), "b": pa.array(["Nordmann", "Hansen", "", None])}
    result = evaluate(rule, columns, 4)
    assert result.values.to_pylist() == ["Ola Nordmann", "Hansen", None, None]
