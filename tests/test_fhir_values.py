"""Property tests for the FHIR reader's pure parts: date/times, numbers and the Bundle scanner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from converters.fhir_json import ParsedFile, parse_json, parse_ndjson_line, scan_bundle
from converters.fhir_values import amount_text, id_of, number_text, parse_time

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
resources = st.builds(
    lambda kind, extra: {"resourceType": kind, **{k: v for k, v in extra.items() if k != "resourceType"}},
    st.sampled_from(["Patient", "Observation", "Goal", "Binary"]),
    st.dictionaries(st.text(max_size=6), json_values, max_size=4),
)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 1, 1)), st.integers(-14 * 60, 14 * 60))
def test_datetime_with_offset_is_the_same_instant(moment: datetime, minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    local = moment.replace(microsecond=0, tzinfo=zone)
    parsed = parse_time(local.isoformat())
    assert parsed is not None and not parsed.naive
    assert parsed.text == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parsed.day == local.date().isoformat()


@given(st.dates(min_value=datetime(1, 1, 1).date()))
def test_a_date_stays_a_date(day: object) -> None:
    text = str(day)
    parsed = parse_time(text)
    assert parsed is not None and parsed.text == text == parsed.day


@given(st.text(max_size=30))
def test_parse_time_never_raises(text: str) -> None:
    parse_time(text)


def test_partial_and_invalid_dates() -> None:
    assert parse_time("2019") is not None and parse_time("2019").text == "2019-01-01"  # type: ignore[union-attr]
    assert parse_time("2019-02-30") is None
    assert parse_time(20190101) is None
    naive = parse_time("2019-07-01T12:00:00")
    assert naive is not None and naive.naive and naive.text == "2019-07-01T10:00:00Z"  # read in Europe/Oslo


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12))
def test_number_text_keeps_the_value(value: object) -> None:
    from decimal import Decimal

    text = number_text(str(value))
    assert text is not None and Decimal(text) == Decimal(str(value))
    amount = amount_text(str(value))
    assert amount is not None and abs(Decimal(amount) - Decimal(str(value))) <= Decimal("0.00005")


def test_reference_ids() -> None:
    assert id_of("urn:uuid:abc") == "abc"
    assert id_of("https://x.example/fhir/Patient/p1/_history/3") == "p1"
    assert id_of("Patient?identifier=urn:oid:2.16.578.1.12.4.1.4.1|15858510055") == "15858510055"


@given(st.lists(resources, max_size=5), st.sampled_from(["", " ", "\n  ", "\t"]))
def test_scanner_returns_each_resource_exactly(items: list[dict[str, object]], pad: str) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in items]}
    text = json.dumps(bundle, indent=len(pad) or None, ensure_ascii=False)
    parsed = parse_json(text)
    assert parsed.bad == []
    assert [r.obj for r in parsed.resources] == items
    for r in parsed.resources:
        assert r.text in text and json.loads(r.text) == r.obj


@given(st.lists(resources, min_size=1, max_size=4), st.integers(min_value=1, max_value=200))
def test_a_cut_bundle_keeps_whole_entries_and_reports_the_rest(items: list[dict[str, object]], cut: int) -> None:
    text = json.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in items]})
    parsed = ParsedFile("bundle")
    scan_bundle(text[: max(1, len(text) - cut)], parsed)
    assert [r.obj for r in parsed.resources] == items[: len(parsed.resources)]
    assert len(parsed.bad) == 1


@given(st.text(max_size=40))
def test_ndjson_line_never_raises(line: str) -> None:
    parsed = ParsedFile("ndjson")
    parse_ndjson_line(line, 1, parsed)
    assert len(parsed.resources) + len(parsed.bad) <= 1
