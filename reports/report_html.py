"""The conversion report as one self-contained HTML page (inline CSS and SVG; no scripts, nothing fetched).

Rendered from the report model (``reports.report_model.build_report``) in Norwegian bokmål (``nb``,
the default) or English (``en``). The first section answers the six questions for the clinic; then
come the reconciliation (``id="reconciliation"``, with a chart), rejects by reason, documents, the
retrieval guide, the mapping documentation, the findings with what to do, the logs and the
archivist's section. Every value is escaped. The same HTML is printed as PDF/A-2b by ``report_pdf``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.report_labels import ADVICE, ANSWERS, QUESTIONS, label

if TYPE_CHECKING:
    from formats.package import PackageLayout

__all__ = ["SECTIONS", "mapping_page", "render_report_html"]

CSS_FILE = Path(__file__).parent / "templates" / "report.css"
FATE_COLOURS = (("converted", "#2b8a3e"), ("preserved", "#4c6ef5"), ("rejected", "#e03131"), ("excluded", "#f08c00"))
SECTIONS = ("clinic", "reconciliation", "rejects", "documents", "retrieval", "mapping", "findings", "logs", "archivist")
CHART_WIDTH = 640
BAR_HEIGHT = 16


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _n(value: object) -> str:
    return f"{int(value):,}".replace(",", "\u202f") if isinstance(value, int) else _e(value)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[int] = (), css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    th = "".join(f"<th{' class=n' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(head))
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="n">{_n(v)}</td>' if i in numeric else f"<td>{v if isinstance(v, _Raw) else _e(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table{cls}><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw(str):
    """Markup already escaped, put into a cell as is."""

    __slots__ = ()


def _code(text: str) -> _Raw:
    return _Raw(f"<code>{_e(text)}</code>")


def _answer_text(q: dict[str, Any], lang: str) -> str:
    words = ANSWERS[lang]
    ev = q["evidence"]
    if q["id"] == "converted":
        balanced = words["balanced_yes"] if ev["balanced"] else words["balanced_no"]
        return words["converted"].format(
            source_records=_n(ev["source_records"]), converted=_n(ev["converted"]), balanced=balanced
        )
    if q["id"] == "which":
        cats = ", ".join(ev["categories"]) or "-"
        return words["which"].format(
            categories=cats, preserved=_n(ev["preserved"]), rejected=_n(ev["rejected"]), excluded=_n(ev["excluded"])
        )
    if q["id"] == "retrieval":
        return words["retrieval"].format(guide_entries=ev["guide_entries"])
    if q["id"] == "documentation":
        return words["documentation"].format(mapping_files=", ".join(ev["mapping_files"]) or "-")
    if q["id"] == "format":
        return words["format"]
    access, disclosure, period = ev["access_log"], ev["disclosure_log"], ev["journal_period"]
    return words[f"logs_{q['answer']}"].format(
        access=_n(access["rows"]),
        a_first=access["first"] or "-",
        a_last=access["last"] or "-",
        disclosure=_n(disclosure["rows"]),
        j_first=period["first"] or "-",
        j_last=period["last"] or "-",
    )


def _clinic(report: dict[str, Any], lang: str) -> str:
    items = []
    for q in report["questions"]:
        answer = q["answer"]
        items.append(
            f'<dt>{_e(QUESTIONS[lang][q["id"]])}</dt><dd><span class="answer {_e(answer)}">'
            f"{_e(label(lang, answer))}.</span>{_e(_answer_text(q, lang))} "
            f'<a href="#section-{_e(q["see"])}">→</a></dd>'
        )
    return f'<dl class="qa">{"".join(items)}</dl>'


def _chart(tables: list[dict[str, Any]], lang: str) -> str:
    """Return an inline SVG: one stacked bar per source table, share of each fate."""
    label_w, gap = 190, 6
    height = len(tables) * (BAR_HEIGHT + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{_e(label(lang, "chart"))}">'
    ]
    for i, t in enumerate(tables):
        y = gap + i * (BAR_HEIGHT + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + BAR_HEIGHT - 4}" font-size="10" text-anchor="end" '
            f'font-family="DejaVu Sans, sans-serif">{_e(t["source_table"][:30])}</text>'
        )
        total, x = max(int(t["source_rows"]), 1), float(label_w)
        for fate, colour in FATE_COLOURS:
            w = (CHART_WIDTH - label_w - 10) * int(t[fate]) / total
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{colour}">'
                    f"<title>{_e(label(lang, fate))}: {int(t[fate])}</title></rect>"
                )
                x += w
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{_e(label(lang, f))}</span>' for f, c in FATE_COLOURS)
    return f'<div class="chart">{"".join(parts)}<div class="legend">{legend}</div></div>'


def _reconciliation(report: dict[str, Any], lang: str) -> str:
    rec = report["reconciliation"]
    fates = ("source_rows", "converted", "preserved", "rejected", "excluded")
    head = [label(lang, "source_table"), *(label(lang, f) for f in fates), label(lang, "balanced")]
    rows: list[list[object]] = [
        [t["source_table"], *(int(t[f]) for f in fates), "✓" if t["balanced"] else "✗"] for t in rec["source_tables"]
    ]
    totals = rec["totals"]
    table = _table(head, rows, numeric=range(1, 6)).replace("<table>", '<table id="reconciliation">', 1)
    total_row = "".join(f'<td class="n">{_n(int(totals[f]))}</td>' for f in fates)
    mark = "✓" if rec["balanced"] else "✗"
    table = table.replace(
        "</tbody>", f'<tr class="total"><td>{_e(label(lang, "total"))}</td>{total_row}<td>{mark}</td></tr></tbody>'
    )
    cats = _table(
        [label(lang, "category"), label(lang, "rows"), label(lang, "from")],
        [
            [c["category"], int(c["rows"]), ", ".join(f"{k} ({v})" for k, v in c["from"].items())]
            for c in rec["categories"]
        ],
        numeric=(1,),
    )
    return (
        f"<p>{_e(label(lang, 'reconciliation_intro'))}</p>{table}"
        f"{_chart(rec['source_tables'], lang)}<h3>{_e(label(lang, 'per_category'))}</h3>{cats}"
    )


def _rejects(report: dict[str, Any], lang: str) -> str:
    out = []
    if not report["rejected"]:
        out.append(f"<p>{_e(label(lang, 'no_rejects'))}</p>")
    for group in report["rejected"]:
        out.append(f"<h3>{_code(group['reason'])} — {_n(group['count'])}</h3><p>{_e(group['description'])}</p>")
        out.append(
            _table(
                [
                    label(lang, "source_table"),
                    label(lang, "row"),
                    label(lang, "field"),
                    label(lang, "value"),
                    label(lang, "rule"),
                ],
                [
                    [x["source_table"], x["row_number"], x["field"], x["value_masked"], x["rule"]]
                    for x in group["examples"]
                ],
                numeric=(1,),
            )
        )
    out.append(f"<h3>{_e(label(lang, 'excluded_h'))}</h3>")
    if report["excluded"]:
        out.append(
            _table(
                [label(lang, "source_table"), label(lang, "reason"), label(lang, "rule"), label(lang, "count")],
                [[x["source_table"], x["reason"], x["rule"], int(x["count"])] for x in report["excluded"]],
                numeric=(3,),
            )
        )
    else:
        out.append(f"<p>{_e(label(lang, 'no_excluded'))}</p>")
    if report["notes"]:
        out.append(f"<h3>{_e(label(lang, 'notes'))}</h3><ul>")
        out += [f"<li>{_code(n.get('table', ''))}: {_e(n.get('message', ''))}</li>" for n in report["notes"]]
        out.append("</ul>")
    return "".join(out)


def _documents(report: dict[str, Any], lang: str) -> str:
    docs = report["documents"]
    if not docs["total"]:
        return f"<p>{_e(label(lang, 'no_documents'))}</p>"
    out = [f"<p>{_e(label(lang, 'doc_summary', total=docs['total'], pdfa=docs['with_pdfa'], pages=docs['pages']))}</p>"]
    for key, head in (("by_status", "status"), ("by_type", "type"), ("by_mime_type", "mime")):
        out.append(_table([label(lang, head), label(lang, "count")], docs[key].items(), numeric=(1,)))
    return "".join(out)


def _retrieval(report: dict[str, Any], lang: str) -> str:
    guide = report["retrieval_guide"]
    out = [
        f"<p>{_e(label(lang, 'retrieval_intro'))}</p><p>{_e(label(lang, 'find_patient'))}</p>"
        f"<pre>{_e(guide['how_to_find_a_patient'])}</pre>"
    ]
    for entry in guide["entries"]:
        out.append(f"<h3>{_code(entry['source_table'])}</h3>")
        if entry["description"]:
            out.append(f"<p>{_e(entry['description'])}</p>")
        if not entry["targets"]:
            out.append(f"<p>{_e(label(lang, 'not_converted'))}</p>")
        for target in entry["targets"]:
            cols = ", ".join(f"{c['column']} ← {c['from']}" if c["from"] else c["column"] for c in target["columns"])
            out.append(f"<p><b>{_e(label(lang, 'now_in'))}</b> {_code(target['table'])}: {_e(cols)}</p>")
            if target.get("document_types"):
                types = ", ".join(f"{t['display'] or t['code']} ({t['n']})" for t in target["document_types"])
                out.append(f"<p>{_e(label(lang, 'doc_types'))}: {_e(types)}</p>")
            if target["command"]:
                out.append(f"<pre>{_e(target['command'])}</pre>")
        if entry["show"]:
            out.append(f"<p>{_e(label(lang, 'show'))}:</p><pre>{_e(entry['show'])}</pre>")
        for kind, command in entry["other_queries"].items():
            name = label(lang, "raw_query") if kind == "raw" else label(lang, kind)
            out.append(f"<p>{_e(name)}:</p><pre>{_e(command)}</pre>")
        out.append(_lost(entry["lost"], lang))
    return "".join(out)


def _lost(lost: dict[str, Any], lang: str) -> str:
    parts = []
    if lost["rows_preserved_raw"] or lost["rows_rejected"] or lost["rows_excluded"]:
        parts.append(
            label(
                lang,
                "lost_rows",
                preserved=lost["rows_preserved_raw"],
                rejected=lost["rows_rejected"],
                excluded=lost["rows_excluded"],
            )
        )
    if lost["columns_dropped"]:
        parts.append(f"{label(lang, 'dropped')}: " + ", ".join(c["column"] for c in lost["columns_dropped"]))
    if lost["columns_kept_raw_only"]:
        parts.append(f"{label(lang, 'raw_only')}: " + ", ".join(lost["columns_kept_raw_only"]))
    if lost["unknown_codes_kept"]:
        parts.append(f"{lost['unknown_codes_kept']} {label(lang, 'unknown_codes')}")
    text = "; ".join(parts) if parts else label(lang, "nothing_lost")
    return f"<p><b>{_e(label(lang, 'lost'))}:</b> {_e(text)}</p>"


_BODY = re.compile(r"<body>(.*)</body>", re.S)


def _mapping(mapping_html: str, lang: str) -> str:
    match = _BODY.search(mapping_html)
    if not match:
        return f"<p>{_e(label(lang, 'no_mapping'))}</p>"
    return f'<section class="mapping-doc">{match.group(1)}</section>'


def _findings(report: dict[str, Any], lang: str) -> str:
    val = report["validation"]
    advice = ADVICE[lang]
    checks = _table(
        [label(lang, k) for k in ("check", "check_title", "rule", "severity", "threshold", "status")],
        [
            [
                _code(c["id"]),
                c["title"],
                c["rule"],
                label(lang, c["severity"]),
                f"{c['threshold']} {c['unit']}" if c["threshold"] is not None else "-",
                label(lang, c["status"]),
            ]
            for c in val["checks"]
        ],
    )
    out = [checks]
    if val["skipped"]:
        out.append(f"<p>{_e(label(lang, 'skipped_note', ', '.join(val['skipped'])))}</p>")
    findings = val["findings"]
    if not findings:
        out.append(f"<p>{_e(label(lang, 'no_findings'))}</p>")
    for severity in ("fatal", "error", "warning", "info"):
        own = [f for f in findings if f["severity"] == severity]
        if own:
            out.append(f'<h3 class="sev-{severity}">{_e(label(lang, severity))} ({len(own)})</h3>')
            out.append(
                _table(
                    [label(lang, "check"), label(lang, "message"), label(lang, "what_to_do")],
                    [
                        [
                            _code(f["check"]),
                            f["message"],
                            advice.get(f["check"], advice[""]) if severity != "info" else "",
                        ]
                        for f in own
                    ],
                )
            )
    return "".join(out)


def _logs(report: dict[str, Any], lang: str) -> str:
    logs = report["access_logs"]
    rows = [
        [label(lang, name), int(logs[name]["rows"]), logs[name]["first"] or "-", logs[name]["last"] or "-"]
        for name in ("access_log", "disclosure_log")
    ]
    rows.append(
        [
            label(lang, "journal_period"),
            "",
            logs["journal_period"]["first"] or "-",
            logs["journal_period"]["last"] or "-",
        ]
    )
    table = _table(
        [label(lang, "log_table"), label(lang, "rows"), label(lang, "first"), label(lang, "last")], rows, numeric=(1,)
    )
    return f"{table}<p>{_e(label(lang, 'audit', logs['conversion_audit']))} {_e(logs['rule'])}.</p>"


def _archivist(report: dict[str, Any], lang: str) -> str:
    arch = report["archivist"]
    formats = _table(
        [
            label(lang, "kind"),
            label(lang, "format"),
            label(lang, "archival"),
            label(lang, "files"),
            label(lang, "bytes"),
        ],
        [[f["kind"], f["format"], f["status"], int(f["files"]), int(f["bytes"])] for f in arch["formats"]],
        numeric=(3, 4),
    )
    fix = arch["fixity"]
    fixity = _table(
        ["", ""],
        [
            [label(lang, "standard"), arch["package_standard"]],
            [label(lang, "algorithm"), f"{fix['algorithm']}: {', '.join(fix['manifests'])}"],
            [label(lang, "files"), f"{fix['files_counted']} ({fix['bytes_counted']} B)"],
            [label(lang, "verify"), _code(fix["how_to_verify"])],
        ],
    )
    folders = _table(
        [label(lang, "folder"), label(lang, "holds"), label(lang, "files")],
        [[_code(f["path"]), f["holds"], f["files"] if f["files"] is not None else ""] for f in arch["layout"]],
        numeric=(2,),
    )
    versions = _table(
        ["", ""],
        [
            [label(lang, "model_version"), arch["model_version"]],
            [label(lang, "tool_version"), report["tool_version"]],
            ["run_id", report["run_id"]],
            ["Bag-Software-Agent", arch["bag_software_agent"] or "-"],
        ],
    )
    audit = report["text_audit"].get("totals") or {}
    text = _table(
        [label(lang, k) for k in ("values", "fallback_decoded", "repaired", "suspicious")],
        [[int(audit.get(k, 0)) for k in ("values", "fallback_decoded", "repaired", "suspicious")]],
        numeric=range(4),
    )
    tz = label(lang, "timezone", report["timestamps"]["source_timezone"])
    return (
        f"{formats}<h3>{_e(label(lang, 'fixity'))}</h3>{fixity}<h3>{_e(label(lang, 'layout'))}</h3>{folders}"
        f"<h3>{_e(label(lang, 'versions'))}</h3>{versions}<h3>{_e(label(lang, 'text_audit'))}</h3>{text}"
        f"<p>{_e(tz)}</p>"
    )


def render_report_html(report: dict[str, Any], *, lang: str = "nb", mapping_html: str = "") -> str:
    """Return the report as one self-contained HTML page.

    Args:
        report: the report model (``build_report``).
        lang: ``nb`` (Norwegian bokmål) or ``en``.
        mapping_html: the mapping documentation page (``reports.mapping_doc.render_html``), embedded.

    Example:
        >>> page = render_report_html(build_report(layout, facts, None, tool_version="0.1.0"))  # doctest: +SKIP
        >>> 'id="reconciliation"' in page  # doctest: +SKIP
        True
    """
    lang = lang if lang in ("nb", "en") else "nb"
    css = CSS_FILE.read_text(encoding="utf-8")
    valid = report["validation"]["valid"]
    badge = f'<p class="badge {"ok" if valid else "bad"}">{_e(label(lang, "valid" if valid else "invalid"))}</p>'
    renderers = {
        "clinic": _clinic,
        "reconciliation": _reconciliation,
        "rejects": _rejects,
        "documents": _documents,
        "retrieval": _retrieval,
        "findings": _findings,
        "logs": _logs,
        "archivist": _archivist,
    }
    toc = "".join(f'<li><a href="#section-{s}">{_e(label(lang, s))}</a></li>' for s in SECTIONS)
    body = []
    for section in SECTIONS:
        inner = _mapping(mapping_html, lang) if section == "mapping" else renderers[section](report, lang)
        body.append(f'<section id="section-{section}"><h2>{_e(label(lang, section))}</h2>{inner}</section>')
    title = label(lang, "title")
    meta = label(lang, "meta", run=report["run_id"], model=report["model_version"], tool=report["tool_version"])
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{_e(title)}</title>\n'
        f"<style>\n{css}</style>\n</head>\n<body>\n<h1>{_e(title)}</h1>\n"
        f'<p class="meta">{_e(label(lang, "subtitle", system=report["system"]))}. {_e(meta)}</p>\n{badge}\n'
        f"<nav><h2>{_e(label(lang, 'contents'))}</h2><ol>{toc}</ol></nav>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def mapping_page(layout: PackageLayout, mapping_file: str, *, lang: str = "nb") -> str:
    """Return the mapping documentation page of the mapping kept in the package, or '' when there is none."""
    from reports.mapping_doc import render_html  # noqa: PLC0415
    from reports.retrieval_guide import load_package_mapping_doc  # noqa: PLC0415

    doc = load_package_mapping_doc(layout, mapping_file)
    return render_html(doc, lang) if doc else ""
