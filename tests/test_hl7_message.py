"""The ER7 parser: delimiters, escapes, segment ends, repetitions, splitting, decoding, DTM times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.hl7_escape import Delimiters, escape, unescape
from converters.hl7_message import Segment, decode_message, msh_charset, split_file
from converters.hl7_timestamp import parse_dtm

SPECIALS = "|^~\\&#!$%*@+:;/?"


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    """Five distinct delimiter characters (as MSH-1/MSH-2 may declare them), truncation or not."""
    chars = draw(st.lists(st.sampled_from(SPECIALS), min_size=6, max_size=6, unique=True))
    truncation = chars[5] if draw(st.booleans()) else ""
    return Delimiters(chars[0], chars[1], chars[2], chars[3], chars[4], truncation)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


# ------------------------------------------------------------------------------------- escapes


@given(TEXT, delimiters())
def test_escape_round_trip(text: str, d: Delimiters) -> None:
    assert unescape(escape(text, d), d) == text


@given(TEXT, delimiters())
def test_escaped_text_holds_no_delimiter_and_no_line_end(text: str, d: Delimiters) -> None:
    escaped = escape(text, d)
    for ch in (d.field, d.component, d.repetition, d.subcomponent, "\r", "\n"):
        assert ch not in escaped
    if d.truncation:
        assert d.truncation not in escaped


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("A\\F\\B\\S\\C\\T\\D\\R\\E\\E\\F", "A|B^C&D~E\\F"),
        ("line 1\\.br\\line 2", "line 1\nline 2"),
        ("\\X0D0A\\", "\r\n"),
        ("\\XC3B8\\", "ø"),  # UTF-8 bytes
        ("\\XF8\\", "ø"),  # not UTF-8: Latin-1
        ("\\H\\bold\\N\\", "\\H\\bold\\N\\"),  # highlighting kept verbatim
        ("\\Zlocal\\", "\\Zlocal\\"),
        ("unclosed \\F", "unclosed \\F"),
        ("\\.sp2\\", "\n\n"),
    ],
)
def test_unescape_known_sequences(raw: str, text: str) -> None:
    assert unescape(raw, Delimiters()) == text


def test_no_escape_character_declared_means_no_unescaping() -> None:
    d = Delimiters.from_msh("MSH|^~|APP")
    assert d.escape == ""
    assert unescape(r"A\T\B", d) == r"A\T\B"


def test_truncation_character_from_v27() -> None:
    d = Delimiters.from_msh("MSH|^~\\&#|APP")
    assert d.truncation == "#"
    assert unescape(r"x\P\y", d) == "x#y"
    assert unescape(r"x\P\y", Delimiters()) == r"x\P\y"


# ---------------------------------------------------------------------- delimiters and fields


@given(delimiters(), st.lists(st.lists(TEXT, min_size=1, max_size=3), min_size=1, max_size=3), TEXT)
@settings(max_examples=200)
def test_custom_delimiters_from_msh(d: Delimiters, reps: list[list[str]], note: str) -> None:
    """A segment written with any declared delimiters reads back component by component."""
    msh = f"MSH{d.field}{d.encoding_characters}{d.field}APP{d.field}FAC"
    assert Delimiters.from_msh(msh) == d
    field = d.repetition.join(d.component.join(escape(c, d) for c in rep) for rep in reps)
    seg = Segment(f"OBX{d.field}1{d.field}ST{d.field}{field}{d.field}{escape(note, d)}", d)
    assert seg.segment_id == "OBX"
    assert len(seg.repetitions(3)) == (len(reps) if field else 0)  # an empty field has no repetition
    for r, rep in enumerate(reps, start=1):
        for c, comp in enumerate(rep, start=1):
            assert seg.part(3, c, repetition=r) == comp
    assert seg.text_of(4) == note
    parsed = Segment(msh, Delimiters.from_msh(msh))
    assert parsed.raw(1) == d.field
    assert parsed.raw(2) == d.encoding_characters
    assert parsed.part(3) == "APP"


def test_repetitions_components_and_subcomponents() -> None:
    seg = Segment("PID|1||H1^^^HOSP&1.2.3&ISO^PI~99^^^OTHER^MR||Ødegård&&&&Aniston^Åse", Delimiters())
    assert seg.repetitions(3) == ["H1^^^HOSP&1.2.3&ISO^PI", "99^^^OTHER^MR"]
    assert seg.part(3, 1) == "H1"
    assert seg.part(3, 4, 2) == "1.2.3"
    assert seg.part(3, 5, repetition=2) == "MR"
    assert seg.part(3, 1, repetition=3) == ""
    assert seg.part(5, 1, 1) == "Ødegård"
    assert seg.part(5, 2) == "Åse"
    assert seg.part(99) == ""
    assert seg.raw(2) == ""


# ----------------------------------------------------------------------- segment ends, splitting

SEGMENT = st.from_regex(r"\A(PID|PV1|OBX|NTE|ZPD)\|[A-Za-z0-9 ^~&]{0,30}\Z")


@given(st.lists(SEGMENT, min_size=0, max_size=6), st.integers(min_value=1, max_value=3))
def test_cr_lf_crlf_give_the_same_messages(body: list[str], count: int) -> None:
    messages = [[f"MSH|^~\\&|APP|FAC|||20240101||ADT^A01|ID{i}|P|2.5", *body] for i in range(count)]
    layouts = []
    for end in ("\r", "\n", "\r\n"):
        data = end.join(s for m in messages for s in m).encode() + end.encode()
        layout = split_file(data)
        assert layout.outside == ()
        segs = [[data[s.start : s.end].decode() for s in m.segments] for m in layout.messages]
        layouts.append(segs)
        # every message's bytes run from its MSH to the next MSH (its line ends included)
        assert b"".join(data[m.start : m.end] for m in layout.messages) == data
    assert layouts[0] == layouts[1] == layouts[2] == messages


def test_batch_envelope_bom_and_continued_lines() -> None:
    data = (
        b"\xef\xbb\xbfFHS|^~\\&|A\rBHS|^~\\&|A\r"
        b"MSH|^~\\&|A|||||ADT^A01|1|P|2.5\rPID|1||X\rNTE|1||first line\nsecond line\r"
        b"MSH|^~\\&|A|||||ADT^A08|2|P|2.5\rPID|1||X\r"
        b"BTS|2\rFTS|1\r"
    )
    layout = split_file(data)
    assert layout.bom
    assert [len(m.segments) for m in layout.messages] == [3, 2]
    assert [s.segment_id for s in layout.outside] == ["FHS", "BHS", "BTS", "FTS"]
    nte = layout.messages[0].segments[2]
    assert data[nte.start : nte.end] == b"NTE|1||first line\nsecond line"
    assert [f.element_path for f in layout.findings] == ["NTE"]


def test_no_msh_means_no_message() -> None:
    layout = split_file(b"this is not HL7\nat all\n")
    assert layout.messages == ()
    assert split_file(b"").messages == ()


# ------------------------------------------------------------------------------------ encodings


def test_charset_from_msh18_and_fallback() -> None:
    msh = "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||NOR|8859/1"
    assert msh_charset(msh.encode()) == "8859/1"
    body = f"{msh}\rPID|1||1||Bjørnstad\r".encode("latin-1")
    text, codec, findings = decode_message(body, "8859/1")
    assert (codec, findings) == ("latin-1", [])
    assert "Bjørnstad" in text
    text, codec, findings = decode_message("Bjørnstad – x".encode("cp1252"), "")
    assert codec == "cp1252"
    assert text == "Bjørnstad – x"
    assert [f.element_path for f in findings] == ["MSH-18"]
    _, codec, findings = decode_message(b"abc", "NO-SUCH-CHARSET")
    assert codec == "utf-8"
    assert "unknown character set" in findings[0].message


# ------------------------------------------------------------------------------------- DTM times


def test_dtm_precisions_and_offsets() -> None:
    assert parse_dtm("2012").precision == 1
    assert parse_dtm("2012").day is None
    assert parse_dtm("20120314").day.isoformat() == "2012-03-14"
    assert parse_dtm("201203141259-0215").iso_utc() == "2012-03-14T15:14:00Z"
    assert parse_dtm("20150624084727.655-0500").iso_utc() == "2015-06-24T13:47:27Z"
    assert parse_dtm("20240701120000").iso_utc() == "2024-07-01T10:00:00Z"  # naive: Europe/Oslo summer time
    assert parse_dtm("20240101120000", zone="UTC").iso_utc() == "2024-01-01T12:00:00Z"
    for bad in ("19801340", "2012031", "20120314+25", "2012-03-14", "", "abc", "20230229"):
        assert parse_dtm(bad) is None, bad


@given(
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 12, 31)),  # noqa: DTZ001
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_dtm_with_offset_round_trip(moment: datetime, offset_minutes: int) -> None:
    moment = moment.replace(microsecond=0)
    sign = "-" if offset_minutes < 0 else "+"
    text = moment.strftime("%Y%m%d%H%M%S") + f"{sign}{abs(offset_minutes) // 60:02d}{abs(offset_minutes) % 60:02d}"
    parsed = parse_dtm(text)
    assert parsed is not None
    expected = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes))).astimezone(UTC)
    assert parsed.instant == expected
    assert parsed.day == moment.date()
