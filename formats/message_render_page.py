"""A readable page built twice at once: as HTML for WeasyPrint and as the plain text it shows.

Message renderings and the journal printout build their content with :class:`Page`; the HTML goes
to :func:`formats.pdf_html.render_html`, and the plain text becomes the document's
``text_extract`` (what a reader of the PDF sees, so the text round trip can be checked).
Every value is HTML-escaped; nothing in a page refers to anything outside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape as _escape

STYLE = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9.5pt; line-height: 1.35;
       color: #000; overflow-wrap: break-word; }
h1 { font-size: 15pt; margin: 0 0 4mm 0; }
h2 { font-size: 12pt; margin: 5mm 0 2mm 0; border-bottom: 0.6pt solid #444; padding-bottom: 0.5mm; }
h3 { font-size: 10.5pt; margin: 3mm 0 1.5mm 0; }
h4 { font-size: 9.5pt; margin: 2mm 0 0.5mm 3mm; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm 0; }
th, td { border: 0.5pt solid #999; padding: 0.8mm 1.2mm; vertical-align: top; text-align: left; }
th { background: #e8e8e8; font-weight: bold; }
tr { page-break-inside: avoid; }
dl { margin: 0 0 1.5mm 0; }
.kv { margin: 0.3mm 0; white-space: pre-wrap; padding-left: 4mm; text-indent: -4mm; }
.group { margin-left: 3mm; border-left: 0.6pt solid #ccc; padding-left: 2mm; }
.gh { font-weight: bold; margin-top: 1mm; }
.text { white-space: pre-wrap; margin: 1mm 0 2mm 0; }
.box { border: 1pt solid #000; padding: 2mm; margin: 2mm 0 3mm 0; }
.warn { border: 1.5pt solid #a00; padding: 2mm; margin: 2mm 0 3mm 0; }
.flag { font-weight: bold; color: #a00; }
.meta { color: #444; font-size: 8.5pt; }
.fields { margin: 0.5mm 0 1.5mm 0; }
.row { margin: 0.4mm 0 0.4mm 0; padding: 0.3mm 0 0.3mm 1.5mm; border-left: 1.2pt solid #888; }
"""
NUMBERED = "@page { @bottom-right { content: counter(page); font-size: 8pt; color: #555; } }"
"""Page numbers in the footer (the journal printout); renditions checked line by line go without."""
MAX_INDENT = 6
WORD_JOINER = "\u2060"
_INNER_HYPHEN = re.compile(r"(?<=\S)-(?=\S)")


def escape(text: str) -> str:
    """HTML-escape ``text`` and forbid line breaks after hyphens inside words (U+2060 WORD JOINER).

    pdftotext joins a line that ends in '-' with the next and drops the hyphen, so an id such as
    ``b51f9b19-db75`` broken at its hyphen would not come back out as it went in. The joiner is
    not drawn and not extracted; ``overflow-wrap: break-word`` still breaks tokens too long for a line.
    A free-standing hyphen (``A - B``) is bound to the next word by a no-break space for the same reason.
    """
    return _INNER_HYPHEN.sub("-" + WORD_JOINER, _escape(text)).replace("- ", "-\u2060\u00a0")


class Page:
    """An HTML page and its plain text, built in step (headings, labelled lines, tables, paragraphs).

    Lines are plain text in one block each: every inline element (``<b>``, ``<span>``) is a box
    WeasyPrint has to split across lines, and flat text lays out about twice as fast.
    """

    def __init__(self, title: str, *, lang: str = "nb", numbered: bool = False) -> None:
        self.title = title
        self.lang = lang
        self.numbered = numbered
        self._html: list[str] = [f"<h1>{escape(title)}</h1>"]
        self._text: list[str] = [title]
        self._depth = 0

    def heading(self, text: str, level: int = 2) -> None:
        """Add a section heading (``level`` 2, 3 or 4)."""
        tag = "h2" if level <= 2 else ("h3" if level == 3 else "h4")
        self._html.append(f"<{tag}>{escape(text)}</{tag}>")
        self._text.append(text)

    def line(self, label: str, value: str | None) -> None:
        """Add ``label: value`` (nothing when the value is empty)."""
        if value is None or not value.strip():
            return
        value = value.strip()
        self._html.append(f'<div class="kv">{escape(label)}: {escape(value)}</div>')
        self._text.append(f"{label}: {value}")

    def fields(self, items: Sequence[tuple[str, str | None]]) -> None:
        """Add many short ``label: value`` pairs flowing in one block (compact field lists)."""
        shown = [(k, v.strip()) for k, v in items if v is not None and v.strip()]
        if not shown:
            return
        # plain separators, no margins: pdftotext takes wide gaps for column boundaries and reorders the text
        spans = " · ".join(f"{escape(k)}: {escape(v)}" for k, v in shown)
        self._html.append(f'<div class="fields">{spans}</div>')
        self._text.extend(f"{k}: {v}" for k, v in shown)

    def paragraph(self, text: str | None, css: str = "text") -> None:
        """Add a block of free text, line breaks kept."""
        if text is None or not text.strip():
            return
        self._html.append(f'<div class="{css}">{escape(text.strip())}</div>')
        self._text.append(text.strip())

    def open_box(self, css: str = "box") -> None:
        """Start a framed block (``box`` or ``warn``); close it with :meth:`close_box`."""
        self._html.append(f'<div class="{css}">')

    def close_box(self) -> None:
        """End the block opened by :meth:`open_box`."""
        self._html.append("</div>")

    def open_group(self, label: str) -> None:
        """Start an indented group with a bold label (nested message elements)."""
        self._depth += 1
        css = "group" if self._depth <= MAX_INDENT else ""
        self._html.append(f'<div class="{css}"><div class="gh">{escape(label)}</div>')
        self._text.append(label)

    def close_group(self) -> None:
        """End the group opened by :meth:`open_group`."""
        self._depth -= 1
        self._html.append("</div>")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str | None]], *, flag_column: int = -1) -> None:
        """Add a table; cells of ``flag_column`` that are not empty are shown in bold red."""
        if not rows:
            return
        head = "".join(f"<th>{escape(h)}</th>" for h in headers)
        body: list[str] = []
        for row in rows:
            cells = []
            for i, cell in enumerate(row):
                value = escape(cell or "")
                css = ' class="flag"' if i == flag_column and cell else ""
                cells.append(f"<td{css}>{value}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
            self._text.extend(c.strip() for c in row if c and c.strip())  # one line a cell, as pdftotext reads it
        self._html.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def rows(self, headers: Sequence[str], rows: Sequence[Sequence[str | None]], *, flag_column: int = -1) -> None:
        """Add a table kept in reading order: one block per row, the first cell bold, the rest ``Header: value``.

        Used where the text must come back out of the PDF line by line (message renditions):
        pdftotext reads the lines of side-by-side table cells across the cells.
        """
        for row in rows:
            first = (row[0] or "").strip() if row else ""
            parts = [
                (headers[i], cell.strip(), i == flag_column)
                for i, cell in enumerate(row)
                if i > 0 and i < len(headers) and cell and cell.strip()
            ]
            html = " · ".join(
                f'{escape(h)}: <span class="flag">{escape(v)}</span>' if flag else f"{escape(h)}: {escape(v)}"
                for h, v, flag in parts
            )
            text = " · ".join(f"{h}: {v}" for h, v, _flag in parts)
            lead = escape(first) + (": " if first and parts else "")
            self._html.append(f'<div class="row">{lead}{html}</div>')
            self._text.append((f"{first}: " if first and parts else first) + text)

    def meta(self, text: str) -> None:
        """Add a small grey note (provenance, what the rendering is)."""
        self._html.append(f'<p class="meta">{escape(text)}</p>')
        self._text.append(text)

    def html(self) -> str:
        """Return the complete HTML document."""
        return (
            f'<!DOCTYPE html><html lang="{escape(self.lang)}"><head><meta charset="utf-8">'
            f"<title>{escape(self.title)}</title><style>{STYLE}{NUMBERED if self.numbered else ''}</style></head><body>"
            + "".join(self._html)
            + "</body></html>"
        )

    def text(self) -> str:
        """Return the plain text the page shows, one item a line."""
        return "\n".join(self._text)
