"""Tests of formats.identifiers: kinds, mod-11 control digits, vectorised classification, masking.

Valid numbers are generated from random dates and individual numbers, with control digits from python-stdnum's
``calc_check_digit1/2`` as an independent reference. No real person's number is used: the fixed examples are the
synthetic ones documented in docs/LIBRARIES.md section 3 and Tenor/FH numbers that cannot belong to a person.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.no import fodselsnummer

from formats.identifiers import KINDS, checksum_rule, classify, classify_array, is_valid_checksum, mask

OFFSETS = {"FNR": (0, 0), "DNR": (40, 0), "HNR": (0, 40), "TNR": (0, 80)}


def with_control_digits(first9: str) -> str | None:
    """Append both control digits, or None when one of them would be 10 (no valid number exists)."""
    k1 = fodselsnummer.calc_check_digit1(first9)
    if k1 == "10":
        return None
    k2 = fodselsnummer.calc_check_digit2(first9 + k1)
    if k2 == "10":
        return None
    return first9 + k1 + k2


@st.composite
def valid_numbers(draw: st.DrawFn, code: str | None = None) -> tuple[str, str]:
    """A valid (number, kind code) of a person-number kind, FHN included."""
    code = code or draw(st.sampled_from([*OFFSETS, "FHN"]))
    if code == "FHN":
        first9 = str(draw(st.integers(8, 9))) + draw(st.text("0123456789", min_size=8, max_size=8))
    else:
        born = draw(st.dates(min_value=date(1854, 1, 1), max_value=date(2039, 12, 31)))
        day_offset, month_offset = OFFSETS[code]
        individual = draw(st.integers(0, 999))
        first9 = f"{born.day + day_offset:02d}{born.month + month_offset:02d}{born.year % 100:02d}{individual:03d}"
    number = with_control_digits(first9)
    assume(number is not None)
    assert number is not None
    return number, code


@given(valid_numbers())
def test_generated_numbers_are_valid_with_right_kind(case: tuple[str, str]) -> None:
    number, code = case
    kind, valid = classify(number)
    assert (kind.code, valid) == (code, True)
    assert kind is KINDS[code]


@given(valid_numbers(), st.integers(0, 10), st.integers(1, 9))
def test_any_single_digit_error_is_detected(case: tuple[str, str], position: int, delta: int) -> None:
    number, _ = case
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not is_valid_checksum(changed)
    assert classify(changed)[1] is False


@given(st.text("0123456789", min_size=11, max_size=11))
def test_stdnum_valid_implies_valid(number: str) -> None:
    if fodselsnummer.is_valid(number):
        kind, valid = classify(number)
        assert valid
        assert kind.code in {"FNR", "DNR", "HNR"}


@pytest.mark.parametrize(
    ("number", "code", "valid"),
    [
        ("15108695088", "FNR", True),  # python-stdnum docstring example
        ("55028610024", "DNR", True),  # LIBRARIES.md §3, synthetic
        ("15458610093", "HNR", True),  # LIBRARIES.md §3, synthetic
        ("81234510053", "FHN", True),  # LIBRARIES.md §3, stdnum rejects it
        ("15908610064", "TNR", True),  # LIBRARIES.md §3, Tenor month+80, stdnum rejects it
        ("15108695077", "FNR", False),  # bad checksum
        ("31028695088", "FNR", False),  # 31 February: kind from the shape, invalid
        ("15138695088", "FNR", False),  # month 13
        ("151086 95088", "FNR", True),
        (" 1510\t8695088\n", "FNR", True),
        ("15108695088\u00a0", "FNR", True),
        ("123456789012", "DUF", True),
        ("1234 5678 9012", "DUF", True),
        ("12345678901234", "UNKNOWN", False),
        ("1510869508", "UNKNOWN", False),
        ("151086-95088", "UNKNOWN", False),
        ("1510869508x", "UNKNOWN", False),
        ("١٥١٠٨٦٩٥٠٨٨", "UNKNOWN", False),  # non-ASCII digits
        ("", "UNKNOWN", False),
    ],
)
def test_known_values(number: str, code: str, valid: bool) -> None:
    kind, is_valid = classify(number)
    assert (kind.code, is_valid) == (code, valid)


def test_systems() -> None:
    assert KINDS["FNR"].system == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert KINDS["DNR"].system == "urn:oid:2.16.578.1.12.4.1.4.2"
    assert KINDS["FHN"].system == "urn:oid:2.16.578.1.12.4.1.4.3"
    assert KINDS["DUF"].system == "urn:oid:2.16.578.1.12.4.1.4.5"
    assert KINDS["HNR"].system == "urn:oid:2.16.578.1.12.4.1.1.8327"
    assert KINDS["TNR"].system == KINDS["FNR"].system


def test_control_digit_ten_is_invalid() -> None:
    first9 = next(f"{n:09d}" for n in range(10**8, 10**9) if fodselsnummer.calc_check_digit1(f"{n:09d}") == "10")
    for k1 in range(10):
        for k2 in range(10):
            assert not is_valid_checksum(f"{first9}{k1}{k2}")
            # from 2032 the remainder may be 1-3, so k1 = 0, 1, 2 become possible here (never 10)
            assert checksum_rule(f"{first9}{k1}{k2}") in (None, "2032")


@pytest.mark.parametrize(
    ("number", "rule", "valid"),
    [
        ("02013299997", "classic", True),  # Skatteetaten's 2032 example, born 02.01.2032 (remainder 0)
        ("30108299920", "classic", True),  # Skatteetaten: person 1 born 30.10.1982, number given in 2032
        ("30108299939", "2032", True),  # Skatteetaten: person 2, k1 = 12 - (196 mod 11) = 3 (remainder 1)
        ("30108299938", None, False),  # person 2 with a wrong second control digit
        ("30108299949", None, False),  # remainder 2 for k1 but k2 not recomputed
    ],
)
def test_2032_rule(number: str, rule: str | None, valid: bool) -> None:
    assert checksum_rule(number) == rule
    assert classify(number)[1] is valid
    assert classify_array(pa.array([number]))[2].to_pylist() == [valid]


@given(st.text("0123456789", min_size=9, max_size=9), st.integers(0, 3))
def test_2032_rule_accepts_remainders_0_to_3(first9: str, rest: int) -> None:
    digits = [int(c) for c in first9]
    s9 = sum(w * d for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), digits, strict=True))
    k1 = (rest - s9) % 11
    if k1 == 10:
        return
    s10 = sum(w * d for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), [*digits, k1], strict=True))
    k2 = (-s10) % 11
    if k2 == 10:
        return
    number = f"{first9}{k1}{k2}"
    assert checksum_rule(number) == ("classic" if rest == 0 else "2032")
    assert is_valid_checksum(number) is (rest == 0)


@given(st.text("0123456789", min_size=12, max_size=12))
def test_duf_shape(number: str) -> None:
    assert classify(number)[0].code == "DUF"


mixed_values = st.one_of(
    valid_numbers().map(lambda case: case[0]),
    st.text("0123456789", min_size=11, max_size=11),
    st.text("0123456789 ", min_size=9, max_size=14),
    st.text(max_size=14),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), mixed_values), max_size=40))
def test_classify_array_agrees_with_classify(values: list[str | None]) -> None:
    codes, systems, valid = classify_array(pa.array(values, pa.string()))
    assert len(codes) == len(systems) == len(valid) == len(values)
    for value, code, system, ok in zip(values, codes.to_pylist(), systems.to_pylist(), valid.to_pylist(), strict=True):
        if value is None:
            assert (code, system, ok) == (None, None, None)
        else:
            kind, is_valid = classify(value)
            assert (code, system, ok) == (kind.code, kind.system, is_valid), value


def test_classify_array_chunked_and_empty() -> None:
    chunked = pa.chunked_array([["15108695088", None], ["81234510053"]])
    codes, _, valid = classify_array(chunked)
    assert codes.to_pylist() == ["FNR", None, "FHN"]
    assert valid.to_pylist() == [True, None, True]
    codes, systems, valid = classify_array(pa.array([], pa.string()))
    assert len(codes) == len(systems) == len(valid) == 0


def test_mask() -> None:
    assert mask("15108695088") == "151086*****"
    assert mask("151086 95088") == "151086*****"
    assert "95088" not in mask("15108695088")


def test_a_mapping_types_and_checks_norwegian_identifiers(tmp_path: Path) -> None:
    from converters.pipeline import ConversionOptions, run_conversion
    from formats.package import open_package
    from reports.query import run_query

    src = tmp_path / "src"
    src.mkdir()
    (src / "pasient.csv").write_text("id;fnr\np1;15108695088\np2;55028610024\np3;15108695089\np4;\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "mapping_version: 1\nsystem: tiny\nsource: {delimiter: ';', patient_table: pasient}\ntables:\n"
        "  pasient:\n    patient: id\n    targets:\n      - table: patient\n        fields:\n"
        "          patient_id: id\n          identifier_value: fnr\n"
        "          identifier_type: {column: fnr, identify: kind}\n"
        "          identifier_system: {column: fnr, identify: system}\n"
        "          identifier_valid: {column: fnr, identify: valid}\n",
        encoding="utf-8",
    )
    run_conversion(ConversionOptions(system="csv", source=src, archive=tmp_path / "a", mapping=mapping))
    rows = run_query(
        open_package(tmp_path / "a"),
        "select patient_id, identifier_type, identifier_system, identifier_valid from patient order by 1",
    ).to_pylist()
    assert rows == [
        {
            "patient_id": "p1",
            "identifier_type": "FNR",
            "identifier_system": "urn:oid:2.16.578.1.12.4.1.4.1",
            "identifier_valid": True,
        },
        {
            "patient_id": "p2",
            "identifier_type": "DNR",
            "identifier_system": "urn:oid:2.16.578.1.12.4.1.4.2",
            "identifier_valid": True,
        },
        {
            "patient_id": "p3",
            "identifier_type": "FNR",
            "identifier_system": "urn:oid:2.16.578.1.12.4.1.4.1",
            "identifier_valid": False,
        },  # flagged as invalid, never dropped
        {"patient_id": "p4", "identifier_type": None, "identifier_system": None, "identifier_valid": None},
    ]


def test_identify_valid_needs_a_boolean_field(tmp_path: Path) -> None:
    from converters.mapping import load_mapping
    from formats.errors import MappingFileError

    path = tmp_path / "m.yaml"
    path.write_text(
        "mapping_version: 1\nsystem: t\nsource: {patient_table: p}\ntables:\n  p:\n    patient: id\n"
        "    targets:\n      - table: patient\n        fields:\n"
        "          identifier_type: {column: f, identify: valid}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingFileError) as info:
        load_mapping(path)
    assert any(e.startswith("tables.p.targets[0].fields.identifier_type.identify:") for e in info.value.errors)
