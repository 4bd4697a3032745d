"""The HTML report in a real headless Chromium: no console errors, the reconciliation table rendered, nb and en."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from formats.package import open_package
from reports.report_html import mapping_page, render_report_html
from reports.report_model import build_report, stored_facts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: make system-deps (or apt-get install chromium)"
)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
)  # fmt: skip


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def _png_colours(path: Path) -> int:
    """Return how many distinct grey levels the PNG's first rows hold (a blank page has one)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    assert width > 0 and height > 0
    return len(set(raw[: min(len(raw), 400_000)]))


@pytest.fixture(scope="module")
def pages(synthea_package: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthea package's report rendered (after the run, every check) in nb and en."""
    layout = open_package(synthea_package)
    facts = stored_facts(layout)
    model = build_report(layout, facts, None, tool_version="test")
    folder = tmp_path_factory.mktemp("html")
    out = {}
    for lang in ("nb", "en"):
        path = folder / f"report.{lang}.html"
        html = render_report_html(model, lang=lang, mapping_html=mapping_page(layout, facts.mapping_file, lang=lang))
        path.write_text(html, encoding="utf-8")
        out[lang] = path
    return out


def test_html_is_self_contained(pages: dict[str, Path], synthea_package: Path) -> None:
    packaged = (synthea_package / "data" / "report" / "report.html").read_text(encoding="utf-8")
    for html in (packaged, *(p.read_text(encoding="utf-8") for p in pages.values())):
        assert "<script" not in html
        for loader in ('src="', "<link", "url(", "@import", "<iframe", "<object"):
            assert loader not in html, loader  # nothing is loaded: no network, no files
        assert 'href="http' not in html
        assert 'id="reconciliation"' in html
        assert "<svg" in html
    assert '<html lang="nb">' in packaged
    assert "Er historiske journaldata konvertert" in pages["nb"].read_text(encoding="utf-8")
    assert "Are the historical journal data converted" in pages["en"].read_text(encoding="utf-8")


@needs_chromium
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_chromium_renders_the_report_without_console_errors(pages: dict[str, Path], lang: str, tmp_path: Path) -> None:
    page = pages[lang]
    shot = tmp_path / f"report-{lang}.png"
    run = _chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "Uncaught" in line or "CONSOLE" in line.upper()]
    assert not console, console
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert _png_colours(shot) > 10, "the screenshot is blank"
    dom = _chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0
    assert '<table id="reconciliation">' in dom.stdout
    assert "patients" in dom.stdout.split('<table id="reconciliation">', 1)[1].split("</table>", 1)[0]
    assert f'<html lang="{lang}">' in dom.stdout
