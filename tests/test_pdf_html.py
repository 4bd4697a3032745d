"""HTML → PDF/A-2b: verified by pikepdf's validator, text round trip, offline, deterministic."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.pdf_html import PdfRenderError, finish_pdfa, html_to_pdfa, render_html


def pdf_text(pdf: bytes) -> str:
    """Text of a PDF via pdftotext (poppler-utils), white space collapsed."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def verdict(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return str(pikepdf.pdfa.validate_written(path, "2b").verdict)


NOTE = "Blodtrykk målt, pasienten føler seg bedre. Æ Ø Å æ ø å – «sitat» µg/l"


def page(body: str) -> str:
    head = "<head><meta charset='utf-8'><title>Test</title></head>"
    return f"<!DOCTYPE html><html lang='nb'>{head}<body>{body}</body></html>"


def test_passes_validator_and_keeps_norwegian_text(tmp_path: Path) -> None:
    pdf = html_to_pdfa(page(f"<h1>Notat</h1><p>{NOTE}</p><table><tr><td>Hb</td><td>12,1</td></tr></table>"))
    assert verdict(pdf, tmp_path) == "pass"
    assert NOTE in pdf_text(pdf)
    with pikepdf.open(io.BytesIO(pdf)) as doc, doc.open_metadata() as meta:
        assert meta["pdfaid:part"] == "2"
        assert meta["pdfaid:conformance"] == "B"
        assert len(doc.Root.OutputIntents) == 1
        assert not doc.is_encrypted


def test_same_html_same_bytes() -> None:
    html = page(f"<p>{NOTE}</p>")
    assert html_to_pdfa(html) == html_to_pdfa(html)


def test_nothing_is_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    css = tmp_path / "evil.css"
    css.write_text("body { display: none }")
    html = page(
        f"<link rel='stylesheet' href='{css.as_uri()}'><img src='{secret.as_uri()}'>"
        "<img src='http://192.0.2.1/x.png'><img src='relative.png'><p>Synlig tekst</p>"
    )
    pdf = html_to_pdfa(html, base_url=tmp_path.as_uri() + "/")
    assert verdict(pdf, tmp_path) == "pass"
    assert "Synlig tekst" in pdf_text(pdf)  # the file: stylesheet (display: none) was not applied
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for pg in doc.pages:
            xobjects = pg.obj.Resources.get("/XObject", {})
            assert not any(xobjects[k].get("/Subtype") == "/Image" for k in xobjects)


def test_inline_data_image_is_kept(tmp_path: Path) -> None:
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
    pdf = html_to_pdfa(page(f"<img style='width:2cm' src='data:image/png;base64,{png}'>"))
    assert verdict(pdf, tmp_path) == "pass"
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        xobjects = doc.pages[0].obj.Resources.XObject
        assert any(xobjects[k].get("/Subtype") == "/Image" for k in xobjects)


def test_long_document_counts_pages(tmp_path: Path) -> None:
    rendered = render_html(page("".join(f"<p>Linje {i}: {NOTE}</p>" for i in range(300))))
    assert rendered.page_count > 3
    with pikepdf.open(io.BytesIO(rendered.pdf)) as doc:
        assert len(doc.pages) == rendered.page_count
    assert verdict(rendered.pdf, tmp_path) == "pass"


def test_script_is_not_carried_over(tmp_path: Path) -> None:
    pdf = html_to_pdfa(page("<script>alert('x')</script><p onclick='evil()'>Tekst</p>"))
    assert b"/JavaScript" not in pdf and b"/JS" not in pdf
    assert verdict(pdf, tmp_path) == "pass"


def test_garbage_is_refused() -> None:
    with pytest.raises(PdfRenderError):
        finish_pdfa(b"not a pdf at all")


norwegian = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzæøåÆØÅ0123456789 .,-"), min_size=1, max_size=60
).filter(lambda s: s.strip() != "")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=norwegian)
def test_any_norwegian_text_round_trips(text: str) -> None:
    from html import escape

    pdf = html_to_pdfa(page(f"<p>{escape(text)}</p>"))
    assert re.sub(r"\s+", " ", text).strip() in pdf_text(pdf)
