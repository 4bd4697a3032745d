"""The demo practice generator: deterministic, synthetic identifiers, legacy shapes, valid file formats."""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import struct
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from converters import practice_files as pf
from converters.practice_generator import DB_NAME, SCHEMA, synthetic_number, write_practice
from converters.practice_source import sniff_mime_type
from formats.identifiers import classify


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("practice") / "p"
    return folder, write_practice(folder, patients=40, seed=7)


def test_same_seed_and_size_give_byte_identical_files(tmp_path: Path) -> None:
    write_practice(tmp_path / "a", patients=25, seed=3)
    write_practice(tmp_path / "b", patients=25, seed=3)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b
    assert DB_NAME in a
    assert any(k.startswith("meldinger/") for k in a)
    assert any(k.startswith("vedlegg/") for k in a)
    write_practice(tmp_path / "c", patients=25, seed=4)
    assert _digest(tmp_path / "c")[DB_NAME] != a[DB_NAME]


def test_rewriting_a_folder_replaces_the_earlier_practice(tmp_path: Path) -> None:
    write_practice(tmp_path / "p", patients=30, seed=1)
    write_practice(tmp_path / "p", patients=5, seed=1)
    write_practice(tmp_path / "q", patients=5, seed=1)
    assert _digest(tmp_path / "p") == _digest(tmp_path / "q")


def test_counts_match_the_database(practice: tuple[Path, dict[str, int]]) -> None:
    folder, counts = practice
    con = sqlite3.connect(folder / DB_NAME)
    for table in SCHEMA:
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == counts[table], table
    con.close()
    assert counts["PASIENT"] == 40
    assert counts["KONTAKT"] > 40
    assert counts["meldinger"] == len(list((folder / "meldinger").rglob("*.xml")))
    assert counts["vedlegg"] == len(list((folder / "vedlegg").iterdir())) == counts["DOKUMENT"]


def test_patients_carry_synthetic_valid_numbers(practice: tuple[Path, dict[str, int]]) -> None:
    con = sqlite3.connect(practice[0] / DB_NAME)
    rows = con.execute("select FODSELSNR, IDTYPE, FODT, KJONN from PASIENT").fetchall()
    con.close()
    for number, kind, born, sex in rows:
        found, valid = classify(number)
        assert (found.code, valid) == ("TNR", True)
        day, month, year = born.split(".")
        assert int(number[2:4]) == int(month) + 80
        assert int(number[:2]) == int(day) + (40 if kind == "D" else 0)
        assert number[4:6] == year[2:]
        assert int(number[8]) % 2 == (0 if sex == "K" else 1)


@settings(max_examples=300, deadline=None)
@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2039, 12, 31)),
    female=st.booleans(),
    d_number=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_synthetic_numbers_are_valid_and_never_ordinary(born: date, female: bool, d_number: bool, seed: int) -> None:  # noqa: FBT001
    number = synthetic_number(born, female=female, d_number=d_number, rng=random.Random(seed))
    assert re.fullmatch(r"\d{11}", number)
    kind, valid = classify(number)
    assert kind.code == "TNR"
    assert valid
    assert int(number[2:4]) > 80  # month + 80: never a real person's number
    assert (int(number[:2]) > 40) == d_number


def test_legacy_shapes(practice: tuple[Path, dict[str, int]]) -> None:
    con = sqlite3.connect(practice[0] / DB_NAME)
    stamp = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d")
    for (when,) in con.execute("select DATO from KONTAKT"):
        assert stamp.fullmatch(when)
    codes = {c for (c,) in con.execute("select distinct KODE from DIAGNOSE")}
    assert all(re.fullmatch(r"[A-Z]\d\d", c) for c in codes)
    assert {n for (n,) in con.execute("select distinct NLK from LABSVAR")} <= {
        f"NPU{d}" for d in ("19748", "02593", "27300", "18016", "03429", "03230", "01566", "03577", "01685", "19651")
    }
    con.close()


def test_dos_era_notes_are_cp865_bytes_in_a_text_column(practice: tuple[Path, dict[str, int]]) -> None:
    con = sqlite3.connect(practice[0] / DB_NAME)
    con.text_factory = bytes
    rows = con.execute("select SKREVET, TEKST, typeof(TEKST) from JOURNALNOTAT").fetchall()
    con.close()
    legacy = 0
    for written, raw, kind in rows:
        assert kind == b"text"
        year = int(written[6:10])
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            legacy += 1
            assert year < 2004
            assert re.search("[æøåÆØÅ]", raw.decode("cp865"))
        else:
            assert year < 2004 or raw.decode("utf-8") == raw.decode("utf-8").strip()
    assert legacy > 0


def test_clean_practice_is_all_utf8(tmp_path: Path) -> None:
    write_practice(tmp_path, patients=20, seed=7, flaws=False)
    con = sqlite3.connect(tmp_path / DB_NAME)
    con.text_factory = bytes
    for (raw,) in con.execute("select TEKST from JOURNALNOTAT"):
        raw.decode("utf-8")
    con.close()


def test_messages_are_well_formed_kith(practice: tuple[Path, dict[str, int]]) -> None:
    files = sorted((practice[0] / "meldinger").rglob("*.xml"))
    assert files
    for f in files:
        root = etree.parse(str(f)).getroot()
        assert root.tag in {
            "{http://www.kith.no/xmlstds/msghead/2006-05-24}MsgHead",
            "{http://www.kith.no/xmlstds/apprec/2012-02-15}AppRec",
        }


def test_attachments_are_what_their_names_say(practice: tuple[Path, dict[str, int]]) -> None:
    expected = {
        ".TIF": "image/tiff",
        ".JPG": "image/jpeg",
        ".RTF": "application/rtf",
        ".PDF": "application/pdf",
        ".DOC": "application/x-ole-storage",
    }
    files = sorted((practice[0] / "vedlegg").iterdir())
    assert files
    for f in files:
        assert re.fullmatch(r"D\d{7}\.[A-Z]{3}", f.name)
        assert sniff_mime_type(f.read_bytes()) == expected[f.suffix]


def test_pdf_cross_reference_points_at_its_objects() -> None:
    data = pf.pdf("Epikrise – Åse Ødegård", ["Linje én", "Søvnvansker (æøå)"])
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[start:].startswith(b"xref\n")
    offsets = [int(line[:10]) for line in data[start:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(f"{number} 0 obj".encode())
    assert b"S\\370vnvansker \\(\\346\\370\\345\\)" in data  # WinAnsi octal escapes, parentheses escaped


def test_tiff_and_jpeg_headers() -> None:
    t = pf.tiff(4, 2, bytes(range(8)), description="x")
    assert t[:4] == b"II*\0"
    offset = struct.unpack("<I", t[4:8])[0]
    entries = struct.unpack("<H", t[offset : offset + 2])[0]
    tags = [struct.unpack("<H", t[offset + 2 + 12 * i : offset + 4 + 12 * i])[0] for i in range(entries)]
    assert tags == sorted(tags)
    assert t.endswith(bytes(range(8)))
    j = pf.jpeg(3, 1, comment="æ")
    assert j.startswith(b"\xff\xd8\xff\xe0") and j.endswith(b"\xff\xd9")
    assert "æ".encode() in j


def test_word_doc_is_a_compound_file_with_a_word_stream() -> None:
    doc = pf.word_doc("Henvisning til Åse")
    assert doc[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert len(doc) % 512 == 0
    directory = doc[1024:1536]
    assert directory[128 : 128 + 24].decode("utf-16-le") == "WordDocument"
    assert doc[1536:1538] == b"\xec\xa5"
    assert "Henvisning til Åse".encode("cp1252") in doc


def test_rtf_escapes_norwegian_letters() -> None:
    text = pf.rtf("Brev", "Hei Åse, vi sees på fredag.\nMvh Bjørn")
    assert text.isascii()
    assert b"\\'c5se" in text and b"p\\'e5" in text and b"Bj\\'f8rn" in text and b"\\par" in text


def test_negative_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        write_practice(tmp_path, patients=-1)
