"""Message renderings: KITH XML and HL7 v2 as readable PDF/A-2b, verified and never raising."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pikepdf.pdfa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.message_render import RENDERED, render_message
from formats.message_render_hl7 import Delims, dtm_text, render_hl7, unescape
from formats.message_render_kith import coded_text, render_kith

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KITH_MESSAGES = sorted((SHARED / "kith" / "messages").rglob("*.xml"))
HL7_SAMPLES = sorted((SHARED / "hl7v2-fhir-converter").glob("*.hl7"))


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def assert_every_line_shown(rendition_text: str | None, pdf: bytes) -> None:
    """Every line of the rendition's text is in the PDF's text (white space removed), as validate checks it."""
    haystack = "".join(pdf_text(pdf).split())
    for n, line in enumerate((rendition_text or "").splitlines(), start=1):
        assert "".join(line.split()) in haystack, f"line {n} not in the PDF: {line[:80]!r}"


def assert_passes(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "m.pdf"
    path.write_bytes(pdf)
    report = pikepdf.pdfa.validate_written(path, "2b")
    assert report.verdict == "pass", [f.message for f in report.findings][:5]


KITH_NOTE = """<?xml version="1.0" encoding="ISO-8859-1"?>
<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">
  <MsgInfo>
    <Type V="DIALOG_NOTAT" DN="Notat"/>
    <GenDate>2024-03-05T10:15:00</GenDate>
    <MsgId>11111111-2222-3333-4444-555555555555</MsgId>
    <Sender><Organisation><OrganisationName>Fjordbyen legekontor</OrganisationName>
      <Ident><Id>81234</Id><TypeId V="HER" DN="HER-id" S="2.16.578.1.12.4.1.1.9051"/></Ident>
      <HealthcareProfessional><FamilyName>Ås</FamilyName><GivenName>Øystein</GivenName></HealthcareProfessional>
    </Organisation></Sender>
    <Receiver><Organisation><OrganisationName>Sørlandet sykehus</OrganisationName>
      <Ident><Id>95678</Id><TypeId V="HER" DN="HER-id" S="2.16.578.1.12.4.1.1.9051"/></Ident>
    </Organisation></Receiver>
    <Patient><FamilyName>Blåbærsen</FamilyName><GivenName>Åse</GivenName>
      <Ident><Id>01019012345</Id><TypeId V="FNR" DN="Fødselsnummer" S="2.16.578.1.12.4.1.1.8116"/></Ident>
    </Patient>
  </MsgInfo>
  <Document><RefDoc><MsgType V="XML" DN="XML-instans"/><Content>
    <Dialogmelding xmlns="http://www.kith.no/xmlstds/dialog/2006-10-11">
      <Notat>
        <TemaKodet V="6" DN="Øvrig" S="2.16.578.1.12.4.1.1.7322" OT="annet tema"/>
        <TekstNotatInnhold>Pasienten har fått blodtrykksmåling. Ærlig talt: bør følges opp.</TekstNotatInnhold>
        <Resultat><Verdi V="7.4" U="mmol/L"/></Resultat>
      </Notat>
    </Dialogmelding>
  </Content></RefDoc></Document>
</MsgHead>
""".encode("iso-8859-1")

HL7_ORU = (
    "MSH|^~\\&|LAB|Fürst^HER^L|EPJ|Fjordbyen legekontor|20240305101500+0100||ORU^R01^ORU_R01|MSG0001|P|2.5"
    "|||||NOR|8859/1\r"
    "PID|1||01019012345^^^FNR^NNFNR||Blåbærsen^Åse||19900101|F\r"
    "PV1|1|O|Fjordbyen^^^^^^^^Legekontor\r"
    "OBR|1|123|456|HB^Hemoglobin^NLK|||20240305090000\r"
    "OBX|1|NM|HB^Hemoglobin^NLK||10.9|g/dL|11.7-15.3|L|||F\r"
    "OBX|2|CWE|GR^Gruppe^L||A^Blodtype A^L||||||F\r"
    "NTE|1||Prøven var lett hemolysert \\T\\ må tas på nytt\r"
    "TXA|1|EPI^Epikrise^L||20240305\r"
    "OBX|3|TX|EPI^Epikrise^L||Utskrevet i god form.~Kontroll om to uker.||||||F\r"
).encode("iso-8859-1")


def test_kith_header_coded_values_and_text(tmp_path: Path) -> None:
    rendition = render_message(KITH_NOTE, "kith")
    assert rendition.status == RENDERED and rendition.pdf is not None
    assert rendition.page_count is not None and rendition.page_count >= 1
    assert_passes(rendition.pdf, tmp_path)
    text = pdf_text(rendition.pdf)
    for expected in (
        "Notat (DIALOG_NOTAT)",
        "Fjordbyen legekontor / Øystein Ås",
        "81234",
        "Sørlandet sykehus",
        "95678",
        "Åse Blåbærsen",
        "01019012345",
        "2024-03-05T10:15:00",
        "Øvrig (6, 2.16.578.1.12.4.1.1.7322) – annet tema",
        "Pasienten har fått blodtrykksmåling. Ærlig talt: bør følges opp.",
        "7.4 mmol/L",
    ):
        assert expected in text
    assert "Ærlig talt" in (rendition.text or "")
    assert_every_line_shown(rendition.text, rendition.pdf)


def test_hl7_header_results_table_notes_and_documents(tmp_path: Path) -> None:
    rendition = render_message(HL7_ORU, "hl7v2")
    assert rendition.status == RENDERED and rendition.pdf is not None
    assert_passes(rendition.pdf, tmp_path)
    text = pdf_text(rendition.pdf)
    for expected in (
        "ORU ^ R01 ^ ORU_R01",
        "2024-03-05 10:15:00 +0100",
        "Fürst",
        "Åse Blåbærsen",
        "Hemoglobin (HB, NLK)",
        "10.9",
        "g/dL",
        "11.7-15.3",
        "Blodtype A (A, L)",
        "Prøven var lett hemolysert & må tas på nytt",
        "Epikrise (EPI, L)",
        "Utskrevet i god form.",
        "Kontroll om to uker.",
    ):
        assert expected in text, expected


def test_attachments_are_listed_not_dumped() -> None:
    payload = "QUJD" * 400
    xml = KITH_NOTE.replace(
        b"</Document>",
        b"</Document><Document><RefDoc><MimeType>application/pdf</MimeType><Content><Base64Container>"
        + payload.encode()
        + b"</Base64Container></Content></RefDoc></Document>",
    )
    text = render_kith(xml).text()
    assert "[vedlegg application/pdf, 1200 byte, bevart som original]" in text
    assert payload[:50] not in text


def test_malformed_and_unknown_input_never_raise() -> None:
    broken = render_message(b"<MsgHead><unclosed>", "kith")
    assert broken.pdf is None and broken.status.startswith("not_normalised: not well-formed XML")
    unknown = render_message(b"{}", "fhir")
    assert unknown.pdf is None and unknown.status.startswith("not_normalised")
    entity = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    safe = render_message(entity, "kith")
    assert "root:" not in (safe.text or "")


def test_coded_text_shapes() -> None:
    assert coded_text({"V": "J", "DN": "Ja", "S": "1.2"}) == "Ja (J, 1.2)"
    assert coded_text({"V": "5", "U": "mg"}) == "5 mg"
    assert coded_text({"V": "X"}) == "X"
    assert coded_text({"OT": "fritekst"}) == "fritekst"
    assert coded_text({}) is None


def test_dtm_text() -> None:
    assert dtm_text("20240305101500+0100") == "2024-03-05 10:15:00 +0100"
    assert dtm_text("20240305") == "2024-03-05"
    assert dtm_text("not a date") == "not a date"


@given(st.text(alphabet=st.sampled_from("abcæøå|^~&\\ 0123"), max_size=40))
def test_unescape_of_escaped_text_round_trips(text: str) -> None:
    d = Delims()
    escaped = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    escaped = escaped.replace("&", "\\T\\").replace("~", "\\R\\")
    assert unescape(escaped, d) == text


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_hl7_page_builder_never_raises_on_garbage(data: bytes) -> None:
    page = render_hl7(b"MSH|^~\\&|" + data)
    assert page.html().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("path", KITH_MESSAGES, ids=lambda p: p.name)
def test_every_shared_kith_message_renders_and_passes(path: Path, tmp_path: Path) -> None:
    rendition = render_message(path.read_bytes(), "kith")
    assert rendition.status == RENDERED, rendition.status
    assert rendition.pdf is not None
    assert_passes(rendition.pdf, tmp_path)
    assert_every_line_shown(rendition.text, rendition.pdf)


@pytest.mark.parametrize("path", HL7_SAMPLES, ids=lambda p: p.name)
def test_every_hl7_sample_renders_and_passes(path: Path, tmp_path: Path) -> None:
    rendition = render_message(path.read_bytes(), "hl7v2")
    assert rendition.status == RENDERED, rendition.status
    assert rendition.pdf is not None
    assert_passes(rendition.pdf, tmp_path)
    assert_every_line_shown(rendition.text, rendition.pdf)


def test_shared_sets_are_there() -> None:
    if not KITH_MESSAGES or not HL7_SAMPLES:
        pytest.skip("../shared/data is not available")
    assert len(KITH_MESSAGES) >= 10 and len(HL7_SAMPLES) >= 50


_names = st.sampled_from(["Notat", "Tekst", "Verdi", "Pasient", "Merknad", "Dato"])
_texts = st.text(alphabet=st.sampled_from("abcæøåÆØÅ 0123-.,<>&\"'"), min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0) -> tuple[str, list[str]]:
    """Return (XML of an element, the texts it holds)."""
    from xml.sax.saxutils import escape, quoteattr

    name = draw(_names)
    if depth >= 3 or draw(st.booleans()):
        text = draw(_texts)
        coded = draw(st.booleans())
        if coded:
            return f"<{name} V={quoteattr(text)} DN={quoteattr(text + 'x')}/>", [text + "x", text]
        return f"<{name}>{escape(text)}</{name}>", [text]
    kids = draw(st.lists(_trees(depth + 1), min_size=1, max_size=3))
    return f"<{name}>{''.join(k[0] for k in kids)}</{name}>", [t for k in kids for t in k[1]]


@settings(max_examples=80)
@given(_trees())
def test_every_kith_text_and_coded_value_is_shown(tree: tuple[str, list[str]]) -> None:
    xml, texts = tree
    data = f'<?xml version="1.0" encoding="UTF-8"?><MsgHead><Document>{xml}</Document></MsgHead>'.encode()
    shown = render_kith(data).text()
    for text in texts:
        assert text.strip() in shown
