"""Mojibake repair and suspicious-sequence detection: properties and batch counts."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import formats.text_repair as tr
from formats.text_repair import (
    FALLBACK_DECODED,
    REPAIRED,
    STILL_SUSPICIOUS,
    ColumnAudit,
    FallbackValue,
    TextAudit,
    double_encode,
    merge_flags,
    repair_batch,
    repair_value,
    suspicious_counts,
)

LETTERS = "abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅéèêüöäÉÖÜ"
CLEAN = LETTERS + "0123456789 .,;:-!?()'\"/%+*=\n\t«»–—’“”€§½"
"""Norwegian journal text: letters, digits, punctuation, typographic quotes and dashes."""

norwegian = st.text(alphabet=CLEAN, max_size=80)
norwegian_with_symbols = st.text(alphabet=CLEAN + "°[]{}|\\µ~@#$&", max_size=80)


@settings(deadline=None)
@given(norwegian_with_symbols, st.sampled_from(["cp1252", "latin-1"]))
def test_repair_undoes_double_encoding(text: str, reading: str) -> None:
    broken = double_encode(text, reading)
    assert (repair_value(broken) or broken) == text


@settings(deadline=None)
@given(norwegian)
def test_repair_undoes_triple_encoding(text: str) -> None:
    broken = double_encode(double_encode(text))
    assert (repair_value(broken) or broken) == text


@settings(deadline=None)
@given(norwegian_with_symbols)
def test_repair_never_changes_clean_text(text: str) -> None:
    assert repair_value(text) is None


@settings(deadline=None)
@given(norwegian)
def test_clean_norwegian_text_is_not_suspicious(text: str) -> None:
    assert suspicious_counts(pa.array([text])).to_pylist() == [0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GrÃ¸nn sÃ¥pe", "Grønn såpe"),
        ("Ã†RÃ˜ og Ã…SE", "ÆRØ og ÅSE"),  # cp1252 reading of Æ Ø Å
        ("\u00c3\u0086r\u00c3\u0098", "ÆrØ"),  # latin-1 reading (C1 controls)
        ("37 Â°C, Â§ 12", "37 °C, § 12"),
        ("â€œsitatâ€\u009d â€“ 200 â‚¬", "“sitat” – 200 €"),  # cp1252 hole 0x9d read as latin-1
        ("GrÃƒÂ¸nn", "Grønn"),  # encoded twice
    ],
)
def test_known_mojibake_is_repaired(text: str, expected: str) -> None:
    assert repair_value(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Grønn sÃ¥pe",  # partly repaired already: the round trip is not exact
        "Bj›rn",  # cp865 read as cp1252: another kind of damage
        "Gr|nn",  # ISO 646-NO read as ASCII
        "Ã¸ og ☃",  # a character no single byte reads as
        "Ã",  # a lone lead byte
        "«PÅ»",  # valid UTF-8 when encoded (Å» -> Ż) but not suspicious: left alone
    ],
)
def test_inexact_or_clean_values_are_left_alone(text: str) -> None:
    assert repair_value(text) is None


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Grønn såpe", 0),
        ("GrÃ¸nn sÃ¥pe", 2),
        ("Bj›rn", 1),
        ("Gr°nn", 1),  # cp1252 ø read as cp865
        ("Gr|nn", 1),
        ("ukjent \ufffd tegn", 1),
        ("C1 \u0085 kontroll", 1),
        ("╞RÅ", 1),  # cp1252 Æ read as cp865 (box drawing)
        ("37°C og 5 µg", 0),
    ],
)
def test_suspicious_sequences_are_counted(text: str, count: int) -> None:
    assert suspicious_counts(pa.array([text, None])).to_pylist() == [count, None]


def _where(rows: list[int]) -> dict[str, pa.Array]:
    n = len(rows)
    return {
        "source_table": pa.array(["notes"] * n),
        "row_number": pa.array(rows, pa.int64()),
        "source_ref": pa.array([f"notes.csv#row={r}" for r in rows]),
        "source_hash": pa.array(["0" * 64] * n),
    }


def test_a_batch_is_repaired_counted_and_flagged() -> None:
    table = pa.table(
        {
            "TEXT": ["GrÃ¸nn", "Bj›rn", None, "", "Grønn", "Ã¦ble"],
            "ID": ["a", "b", "c", "d", "e", "f"],
        }
    )
    fallback = FallbackValue(5, "TEXT", b"Gr\x9bnn", "cp865")
    out = repair_batch(table, ["TEXT", "ID"], where=_where([2, 3, 4, 5, 6, 7]), encoding="utf-8", fallbacks=[fallback])
    assert out.table.column("TEXT").to_pylist() == ["Grønn", "Bj›rn", None, "", "Grønn", "æble"]
    assert out.audit["TEXT"] == ColumnAudit(
        values=4, fallback_decoded=1, repaired=2, suspicious_before=3, suspicious=1, fallback_encodings=(("cp865", 1),)
    )
    assert out.audit["ID"] == ColumnAudit(values=6)
    assert out.row_flags is not None
    assert out.row_flags.to_pylist() == [REPAIRED, STILL_SUSPICIOUS, None, FALLBACK_DECODED, None, REPAIRED]
    assert out.flag_counts == {REPAIRED: 2, STILL_SUSPICIOUS: 1, FALLBACK_DECODED: 1}
    assert out.repairs is not None
    records = out.repairs.to_pylist()
    assert [(r["row_number"], r["action"], r["encoding"]) for r in records] == [
        (2, REPAIRED, "utf-8"),
        (5, FALLBACK_DECODED, "cp865"),
        (7, REPAIRED, "utf-8"),
    ]
    merged = merge_flags(pa.array(["unknown_code", None, None, None, None, None], pa.string()), out)
    assert merged.to_pylist()[:2] == [f"unknown_code;{REPAIRED}", STILL_SUSPICIOUS]


def test_repair_off_counts_but_changes_nothing() -> None:
    table = pa.table({"TEXT": ["GrÃ¸nn", "ok"]})
    out = repair_batch(table, ["TEXT"], where=_where([2, 3]), encoding="utf-8", repair=False)
    assert out.table.equals(table)
    assert out.audit["TEXT"] == ColumnAudit(values=2, suspicious_before=1, suspicious=1)
    assert out.repairs is None


def test_only_suspicious_values_reach_python(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = tr.repair_value

    def counting(text: str) -> str | None:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(tr, "repair_value", counting)
    values = ["Grønn såpe"] * 10_000 + ["GrÃ¸nn"] + ["Bjørn"] * 10_000
    out = repair_batch(
        pa.table({"TEXT": values}), ["TEXT"], where=_where(list(range(2, len(values) + 2))), encoding="utf-8"
    )
    assert seen == ["GrÃ¸nn"]
    assert out.audit["TEXT"].repaired == 1


def test_a_repaired_value_in_a_legacy_file_keeps_its_legacy_bytes() -> None:
    out = repair_batch(pa.table({"T": ["GrÃ¸nn"]}), ["T"], where=_where([2]), encoding="cp1252")
    assert out.repairs is not None
    [record] = out.repairs.to_pylist()
    assert record["encoding"] == "cp1252"
    import base64

    assert base64.b64decode(record["original_base64"]) == "GrÃ¸nn".encode("cp1252")


def test_the_run_audit_adds_batches_and_sorts() -> None:
    audit = TextAudit()
    audit.add("notes", {"TEXT": ColumnAudit(3, 1, 1, 2, 1, (("cp865", 1),)), "EMPTY": ColumnAudit()})
    audit.add("notes", {"TEXT": ColumnAudit(2, 1, 0, 0, 0, (("cp865", 1),))})
    audit.add("a", {"X": ColumnAudit(1)})
    table = audit.to_table()
    assert table.column("source_table").to_pylist() == ["a", "notes"]
    assert table.column("fallback_encodings").to_pylist() == [None, "cp865:2"]
    summary = audit.to_dict()
    assert summary["totals"] == {
        "values": 6,
        "fallback_decoded": 2,
        "fallback_encodings": {"cp865": 2},
        "suspicious_before": 2,
        "repaired": 1,
        "suspicious": 1,
    }
    columns = summary["columns"]
    assert isinstance(columns, list)
    assert [c["column"] for c in columns] == ["TEXT"]


def test_ucum_annotations_are_not_iso646_damage() -> None:
    from formats.text_repair import suspicious_counts

    values = pa.array(["ng/g{creat}", "K[iU]/mL", "{AHG}eq/mL", "mm[Hg]", "bl}merker p} l}ret", "h|yre skulder", None])
    assert suspicious_counts(values).to_pylist() == [0, 0, 0, 0, 2, 1, None]  # "p} " has no letter after it
