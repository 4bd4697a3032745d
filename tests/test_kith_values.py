"""Pure normalisers of the KITH reader: decimal comma, reference intervals, dates and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.kith_originals import decode_base64, verbatim_text
from converters.kith_source import oid_uri
from converters.kith_values import decimal_text, normalise_date, normalise_timestamp, reference_interval

numbers = st.decimals(min_value=-10_000, max_value=10_000, places=3, allow_nan=False, allow_infinity=False)


@given(numbers)
def test_decimal_comma_and_point_read_the_same(value: object) -> None:
    text = f"{value}"
    assert decimal_text(text) == decimal_text(text.replace(".", ","))
    result = decimal_text(text.replace(".", ","))
    assert result is not None
    assert float(result) == pytest.approx(float(text))


@given(numbers, numbers)
def test_reference_interval_with_decimal_commas(low: object, high: object) -> None:
    text = f"{low} - {high}".replace(".", ",")
    got_low, got_high = reference_interval(text)
    assert got_low is not None and got_high is not None
    assert float(got_low) == pytest.approx(float(f"{low}"))
    assert float(got_high) == pytest.approx(float(f"{high}"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3,5 - 11,0", ("3.5", "11.0")),
        ("10 - 22", ("10", "22")),
        ("< 0,5", (None, "0.5")),
        ("<12", (None, "12")),
        ("> 60", ("60", None)),
        ("negativ", (None, None)),
        (None, (None, None)),
    ],
)
def test_reference_interval_examples(text: str | None, expected: tuple[str | None, str | None]) -> None:
    assert reference_interval(text) == expected


@pytest.mark.parametrize("text", ["< 3", "1,2,3", "", "abc", "1.5e3"])
def test_decimal_text_refuses_what_is_not_a_plain_number(text: str) -> None:
    assert decimal_text(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1991-12-4", "1991-12-04"), ("2017-11-05+01:00", "2017-11-05"), ("2020-02-30", None), ("x", None)],
)
def test_normalise_date(text: str, expected: str | None) -> None:
    assert normalise_date(text) == expected


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)), st.integers(-12 * 60, 14 * 60))  # noqa: DTZ001
def test_timestamps_with_offsets_become_the_same_utc_instant(moment: datetime, offset_minutes: int) -> None:
    offset = timedelta(minutes=offset_minutes)
    sign = "+" if offset_minutes >= 0 else "-"
    text = (
        moment.replace(microsecond=0).isoformat()
        + f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    )
    expected = (moment.replace(microsecond=0) - offset).replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert normalise_timestamp(text) == expected


def test_naive_times_are_oslo_time_and_fractions_are_dropped() -> None:
    assert normalise_timestamp("2012-02-17T09:30:47") == "2012-02-17T08:30:47Z"  # winter: UTC+1
    assert normalise_timestamp("2012-07-17T09:30:47") == "2012-07-17T07:30:47Z"  # summer: UTC+2
    assert normalise_timestamp("2019-01-16T22:51:35.5317672+01:00") == "2019-01-16T21:51:35Z"
    assert normalise_timestamp("2020-06-22T18:02:19Z") == "2020-06-22T18:02:19Z"
    assert normalise_timestamp("2024-03-05") == "2024-03-04T23:00:00Z"
    assert normalise_timestamp("not a time") is None


@given(st.binary(max_size=200))
def test_base64_round_trip(data: bytes) -> None:
    import base64

    encoded = base64.b64encode(data).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert decode_base64(wrapped) == data


def test_invalid_base64_is_recognised() -> None:
    assert decode_base64("base64") is None
    assert decode_base64("@@@@") is None
    assert decode_base64(None) == b""


def test_oid_uri_and_verbatim_text() -> None:
    assert oid_uri("2.16.578.1.12.4.1.1.7280") == "urn:oid:2.16.578.1.12.4.1.1.7280"
    assert oid_uri("http://loinc.org") == "http://loinc.org"
    assert oid_uri(None) is None
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><a>Brønnøysund</a>'.encode("latin-1")
    assert "Brønnøysund" in verbatim_text(latin)
    assert "\\xff" in verbatim_text(b"<a>\xff</a>")
