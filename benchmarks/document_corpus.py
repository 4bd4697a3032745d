"""A synthetic corpus of documents of every type the normaliser takes (no real persons).

Used by the tests (tests/test_pdfa_normalise.py) and the benchmark (document_throughput.py).
Each :class:`CorpusDocument` says what it is, the bytes, the suffix a reader would give it, the
text that must survive into the PDF/A (None for images) and the status expected.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass
from html import escape

NOTE = (
    "Pasienten føler seg bedre. Blodtrykk målt 128/84.\n"
    "Æ Ø Å æ ø å – kontroll om tre måneder.\n"
    "Ingen kjent allergi; fortsetter med Paracet ved behov."
)
"""Norwegian note text with every special letter (synthetic)."""
TEXT_ENCODINGS = ("utf-8", "cp865", "cp850", "cp1252", "latin-1", "iso646-no")


@dataclass(frozen=True)
class CorpusDocument:
    """One test document: ``kind`` (input type), bytes, suffix, text that must survive, expected status."""

    name: str
    kind: str
    data: bytes
    suffix: str
    text: str | None
    status: str


def _legacy_note(encoding: str) -> str:
    # the en dash exists in cp1252 only; legacy code pages get a hyphen
    return NOTE if encoding in ("utf-8", "cp1252") else NOTE.replace("–", "-")


def text_documents() -> list[CorpusDocument]:
    """Plain text in every legacy encoding journalkonvert supports."""
    import formats.text_codecs  # noqa: F401 - registers iso646-no

    out = []
    for enc in TEXT_ENCODINGS:
        text = _legacy_note(enc)
        out.append(CorpusDocument(f"note-{enc}.txt", "txt", text.encode(enc), ".txt", text, "normalised"))
    return out


def rtf_document() -> CorpusDocument:
    """An RTF letter with ``\\'e6``-style escapes (cp1252)."""
    body = "".join(f"\\'{ord(c.encode('cp1252')):02x}" if ord(c) > 127 else c for c in NOTE.replace("\n", "\\par\n"))
    rtf = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\f0\\fs24 " + body + "\\par}"
    return CorpusDocument("letter.rtf", "rtf", rtf.encode("ascii"), ".rtf", NOTE, "normalised")


def docx_document() -> CorpusDocument:
    """A minimal Word 2007+ document, built as a zip (no Word needed)."""
    paragraphs = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>' for line in NOTE.splitlines()
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            f'wordprocessingml/2006/main"><w:body>{paragraphs}</w:body></w:document>',
        )
    return CorpusDocument("letter.docx", "docx", buf.getvalue(), ".docx", NOTE, "normalised")


def odt_document() -> CorpusDocument:
    """A minimal OpenDocument text, built as a zip (``mimetype`` first and stored)."""
    paragraphs = "".join(f"<text:p>{escape(line)}</text:p>" for line in NOTE.splitlines())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
        z.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
            'opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
            f'office:version="1.2"><office:body><office:text>{paragraphs}</office:text></office:body>'
            "</office:document-content>",
        )
    return CorpusDocument("letter.odt", "odt", buf.getvalue(), ".odt", NOTE, "normalised")


def doc_document() -> CorpusDocument | None:
    """A Word 97 .doc made by LibreOffice from the RTF letter (None where LibreOffice is missing)."""
    import subprocess
    import tempfile
    from pathlib import Path

    from formats.pdfa_tools import find_soffice

    soffice = find_soffice()
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "letter.rtf").write_bytes(rtf_document().data)
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                soffice,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--convert-to",
                "doc:MS Word 97",
                "--outdir",
                str(work),
                str(work / "letter.rtf"),
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
        out = work / "letter.doc"
        if not out.is_file():
            return None
        return CorpusDocument("letter.doc", "doc", out.read_bytes(), ".doc", NOTE, "normalised")


def image_documents() -> list[CorpusDocument]:
    """A two-page CCITT G4 TIFF at 300 dpi, a JPEG and a PNG with transparency."""
    from PIL import Image, ImageDraw

    pages = []
    for n in (1, 2):
        page = Image.new("1", (2480, 3508), 1)
        draw = ImageDraw.Draw(page)
        draw.rectangle((200, 200, 2280, 400), outline=0, width=8)
        draw.text((260, 260), f"Skannet brev, side {n}", fill=0)
        pages.append(page)
    tiff = io.BytesIO()
    pages[0].save(tiff, "TIFF", compression="group4", save_all=True, append_images=pages[1:], dpi=(300, 300))
    photo = Image.new("RGB", (1240, 1754), (250, 248, 240))
    ImageDraw.Draw(photo).ellipse((300, 300, 900, 900), fill=(180, 40, 40))
    jpeg = io.BytesIO()
    photo.save(jpeg, "JPEG", quality=85, dpi=(150, 150))
    rgba = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).rectangle((50, 50, 550, 350), fill=(20, 90, 160, 200))
    png = io.BytesIO()
    rgba.save(png, "PNG")
    return [
        CorpusDocument("scan-g4.tif", "tiff", tiff.getvalue(), ".tif", None, "normalised"),
        CorpusDocument("photo.jpg", "jpeg", jpeg.getvalue(), ".jpg", None, "normalised"),
        CorpusDocument("chart.png", "png", png.getvalue(), ".png", None, "normalised"),
    ]


def html_document() -> CorpusDocument:
    """HTML with a table and references that must not be fetched (network and local file)."""
    lines = "".join(f"<tr><td>{escape(line)}</td></tr>" for line in NOTE.splitlines())
    page = (
        '<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8"><title>Notat</title>'
        '<link rel="stylesheet" href="http://192.0.2.1/style.css"></head><body><h1>Notat</h1>'
        f'<table border="1">{lines}</table><img src="file:///etc/hostname" alt="">'
        '<img src="https://192.0.2.1/logo.png" alt=""></body></html>'
    )
    return CorpusDocument("note.html", "html", page.encode("utf-8"), ".html", NOTE, "normalised")


def pdf_documents() -> list[CorpusDocument]:
    """A plain PDF, a PDF/A-2b, an encrypted PDF, a PDF with JavaScript and one with a non-embedded font."""
    import pikepdf
    import weasyprint

    from formats.pdf_html import html_to_pdfa

    page = "<html lang='nb'><body>" + "".join(f"<p>{escape(line)}</p>" for line in NOTE.splitlines()) + "</body></html>"
    plain = bytes(weasyprint.HTML(string=page).write_pdf())
    gs = shutil.which("gs") is not None
    pdfa = html_to_pdfa(page)

    def resave(data: bytes, change: str) -> bytes:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            out = io.BytesIO()
            if change == "encrypt":
                pdf.save(out, encryption=pikepdf.Encryption(owner="eier", user="bruker", R=6))
            else:
                js = pdf.make_indirect(
                    pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x');"))
                )
                pdf.Root.OpenAction = js
                pdf.save(out)
            return out.getvalue()

    return [
        CorpusDocument("plain.pdf", "pdf", plain, ".pdf", NOTE, "normalised"),
        CorpusDocument("already-pdfa.pdf", "pdf", pdfa, ".pdf", NOTE, "already_pdfa"),
        CorpusDocument("encrypted.pdf", "pdf", resave(plain, "encrypt"), ".pdf", None, "rejected_encrypted"),
        CorpusDocument("javascript.pdf", "pdf", resave(plain, "js"), ".pdf", NOTE, "sanitised"),
        CorpusDocument(
            "helvetica.pdf",
            "pdf",
            standard_font_pdf("Helvetica"),
            ".pdf",
            None,
            "rewritten" if gs else "not_normalised",
        ),
    ]


def standard_font_pdf(text: str) -> bytes:
    """A one-page PDF whose text uses standard-14 Helvetica, which is not embedded (not PDF/A)."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    content = pdf.make_stream(f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=content,
    )
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def corrupt_documents() -> list[CorpusDocument]:
    """Files that claim a type but are broken, and one of no known type."""
    return [
        CorpusDocument("broken.pdf", "corrupt", b"%PDF-1.7\n1 0 obj << /Type /Cat", ".pdf", None, "not_normalised"),
        CorpusDocument("broken.jpg", "corrupt", b"\xff\xd8\xff\xe0" + b"\x00" * 40, ".jpg", None, "not_normalised"),
        CorpusDocument("broken.docx", "corrupt", b"PK\x03\x04 not a zip", ".docx", None, "not_normalised"),
        CorpusDocument("unknown.bin", "corrupt", bytes(range(256)), ".bin", None, "not_normalised"),
    ]


def build_corpus(*, office: bool = True) -> list[CorpusDocument]:
    """Return every corpus document (the office types only when ``office`` and LibreOffice is there)."""
    docs = [*text_documents(), html_document(), *image_documents(), *pdf_documents(), *corrupt_documents()]
    if office:
        docs += [rtf_document(), docx_document(), odt_document()]
        doc = doc_document()
        if doc is not None:
            docs.append(doc)
    return docs
