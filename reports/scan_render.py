"""Rendering of a source scan (``converters.scan.ScanResult``) as JSON and as one self-contained HTML page.

Both are deterministic (no times, no host names). The HTML page has no scripts and loads nothing:
it opens from a USB stick on an offline machine. Every text from the source (table, column and
file names, values, shapes, notes) is escaped with ``html.escape``. The scan itself holds no value
of a sensitive column, so neither rendering can show one.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from converters.scan import ScanResult, TableProfile
from converters.scan_columns import ColumnProfile

__all__ = ["render_html", "render_json"]


def render_json(result: ScanResult) -> str:
    """Return the scan as indented JSON (UTF-8 text, keys in a fixed order, ending in a newline)."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #d0d0d7; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
ul.v { margin: 0; padding-left: 1rem; } ul.v li { white-space: pre-wrap; }
code { font-size: .85em; }
.s { display: inline-block; padding: 0 .35rem; border-radius: .3rem; background: #ffe1e1; color: #8a1010; }
.w { color: #8a4b00; } .muted { color: #6e6e73; } .meta td:first-child { font-weight: 600; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _counts(pairs: Iterable[tuple[str, int]], *, code: bool = False) -> str:
    items = [
        f"<li>{'<code>' if code else ''}{_e(v)}{'</code>' if code else ''} <span class='muted'>({_n(n)})</span></li>"
        for v, n in pairs
    ]
    return f"<ul class='v'>{''.join(items)}</ul>" if items else ""


def _type_cell(c: ColumnProfile) -> str:
    text = _e(c.inferred_type)
    if c.date_format:
        text += f"<br><code>{_e(c.date_format)}</code>"
    if c.non_empty and c.type_matches < c.non_empty and c.inferred_type != "text":
        text += f"<br><span class='w'>{_n(c.non_empty - c.type_matches)} do not match</span>"
    return text


def _column_row(c: ColumnProfile) -> str:
    sensitive = (
        f"<span class='s' title='{_e(c.sensitive_reason or '')}'>{_e(c.sensitive.replace('_', ' '))}</span>"
        if c.sensitive
        else ""
    )
    distinct = _n(c.distinct) + ("" if c.distinct_exact else " <span class='muted'>≈</span>")
    if c.sensitive:
        values = f"<span class='muted'>not shown ({_e(c.sensitive_reason or c.sensitive)})</span>"
    else:
        values = _counts(c.top_values)
    extremes = ""
    if c.min_value is not None:
        extremes = f"{_e(c.min_value)}<br>{_e(c.max_value)}"
    lengths = "" if c.min_length is None else f"{_n(c.min_length)} / {_n(c.avg_length)} / {_n(c.max_length)}"
    mojibake = f"<span class='w'>{_n(c.mojibake)}</span>" if c.mojibake else "0"
    notes = "".join(f"<li>{_e(note)}</li>" for note in c.notes)
    cells = [
        f"<th scope='row'>{_e(c.name)}</th>",
        f"<td>{_type_cell(c)}</td>",
        f"<td>{sensitive}</td>",
        f"<td class='n'>{_n(c.non_empty)}</td>",
        f"<td class='n'>{_n(c.nulls)}</td>",
        f"<td class='n'>{_n(c.empties)}</td>",
        f"<td class='n'>{distinct}</td>",
        f"<td>{extremes}</td>",
        f"<td class='n'>{lengths}</td>",
        f"<td class='n'>{mojibake}</td>",
        f"<td>{values}</td>",
        f"<td>{_counts(c.shapes, code=True)}</td>",
        f"<td>{'<ul class=v>' + notes + '</ul>' if notes else ''}</td>",
    ]
    return f"<tr>{''.join(cells)}</tr>"


_COLUMN_HEAD = (
    "column",
    "type",
    "sensitive",
    "values",
    "NULL",
    "empty",
    "distinct",
    "min / max",
    "length min / avg / max",
    "mojibake",
    "top values",
    "shapes",
    "notes",
)


def _table_section(index: int, t: TableProfile) -> str:
    meta = [("rows", _n(t.rows)), ("columns", _n(len(t.columns)))]
    if t.file is not None:
        meta.append(("file", f"<code>{_e(t.file)}</code>"))
    if t.encoding is not None:
        meta.append(("encoding", f"{_e(t.encoding)} <span class='muted'>({_e(t.encoding_reason or '')})</span>"))
    if t.delimiter is not None:
        meta.append(("delimiter", f"<code>{_e(repr(t.delimiter))}</code>"))
    if t.problems:
        problems = ", ".join(f"{_e(k)}: {_n(v)}" for k, v in sorted(t.problems.items()))
        meta.append(("rows not read", f"<span class='w'>{problems}</span>"))
    meta_rows = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in meta)
    head = "".join(f"<th scope='col'>{_e(h)}</th>" for h in _COLUMN_HEAD)
    body = "".join(_column_row(c) for c in t.columns)
    return (
        f"<section id='t{index}'><h2>{_e(t.name)}</h2>"
        f"<table class='meta'>{meta_rows}</table>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def _overview(result: ScanResult) -> str:
    rows = []
    for i, t in enumerate(result.tables):
        sensitive = sum(1 for c in t.columns if c.sensitive)
        mojibake = sum(c.mojibake for c in t.columns)
        problems = sum(t.problems.values())
        rows.append(
            "<tr>"
            f"<th scope='row'><a href='#t{i}'>{_e(t.name)}</a></th>"
            f"<td class='n'>{_n(t.rows)}</td><td class='n'>{_n(len(t.columns))}</td>"
            f"<td class='n'>{_n(sensitive)}</td>"
            f"<td>{_e(t.encoding or '')}</td>"
            f"<td class='n'>{_n(problems)}</td><td class='n'>{_n(mojibake)}</td>"
            "</tr>"
        )
    head = "".join(
        f"<th scope='col'>{h}</th>"
        for h in ("table", "rows", "columns", "sensitive columns", "encoding", "rows not read", "mojibake values")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(result: ScanResult) -> str:
    """Return the scan as one self-contained HTML page (inline style, no scripts, everything escaped)."""
    total = sum(t.rows for t in result.tables)
    settings = (
        f"top values per column: {_n(result.top)}; distinct values counted exactly up to "
        f"{_n(result.distinct_cap)} per column (then estimated, marked ≈)"
    )
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Scan of {_e(result.source)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Scan of <code>{_e(result.source)}</code></h1>",
        "<table class='meta'>",
        f"<tr><td>system</td><td>{_e(result.system)}</td></tr>",
        f"<tr><td>tables</td><td>{_n(len(result.tables))}</td></tr>",
        f"<tr><td>rows</td><td>{_n(total)}</td></tr>",
        f"<tr><td>settings</td><td>{_e(settings)}</td></tr>",
        "</table>",
        "<p class='muted'>Columns classified as identifier, name or free text show counts, lengths and shapes "
        "only (digits as 9, letters as a/A), never values. Values seen once are not listed where they could "
        "single out a person.</p>",
        _overview(result),
        *(_table_section(i, t) for i, t in enumerate(result.tables)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
