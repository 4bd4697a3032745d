"""The ``access_log`` check: the access log (tilgangslogg) is kept and covers the journal period.

Pasientjournalloven § 18 gives the patient the right to know who has had access to the journal;
Normen and pasientjournalforskriften ask that the logs be kept as long as the journal. A package
without an access log, or whose log starts later or ends earlier than the journal, loses that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from formats.package import PackageLayout
from formats.table_sink import sql_string
from validation.findings import Finding, Severity
from validation.integrity import bounded_connection, usable_tables

JOURNAL_DATES = (("encounter", "start_at"), ("journal_note", "recorded_at"))
"""Where the journal period is read: the first and last contact or note."""


def _period(layout: PackageLayout, parts: tuple[tuple[str, str], ...]) -> tuple[dt.datetime | None, dt.datetime | None]:
    con = bounded_connection()
    lows: list[dt.datetime] = []
    highs: list[dt.datetime] = []
    usable = usable_tables(layout)
    for name, col in parts:
        path = layout.table(name)
        if name not in usable:
            continue
        row = con.execute(f'SELECT min("{col}"), max("{col}") FROM read_parquet({sql_string(path)})').fetchone()
        if row and row[0] is not None:
            lows.append(row[0])
            highs.append(row[1])
    return (min(lows) if lows else None, max(highs) if highs else None)


def check_access_log(layout: PackageLayout) -> Iterator[Finding]:
    """Warn when the access log is absent or starts after / ends before the journal period (gap in days)."""
    rule = "pasientjournalloven § 18, pasientjournalforskriften: keep the access log as long as the journal"
    first, last = _period(layout, JOURNAL_DATES)
    if not layout.table("access_log").is_file():
        yield Finding(
            "access_log",
            Severity.WARNING,
            f"the package holds no access log (tilgangslogg): who read the journals cannot be shown ({rule}); "
            "export it from the old system and convert it, or document where it is kept",
            path="data/tables/access_log.parquet",
        )
        return
    if "access_log" not in usable_tables(layout):
        return  # the schema check reports the unreadable access log
    log_first, log_last = _period(layout, (("access_log", "event_at"),))
    if log_first is None or log_last is None:
        yield Finding("access_log", Severity.WARNING, f"the access log is empty ({rule})", table="access_log")
        return
    if first is None or last is None:
        yield Finding("access_log", Severity.INFO, "no dated contacts or notes: the journal period is unknown")
        return
    if log_first > first:
        days = (log_first - first).days
        yield Finding(
            "access_log",
            Severity.WARNING,
            f"the access log starts {log_first:%Y-%m-%d}, {days} day(s) after the journal's first entry "
            f"({first:%Y-%m-%d}): access before then is not documented",
            table="access_log",
            count=max(days, 1),
        )
    if log_last < last:
        days = (last - log_last).days
        yield Finding(
            "access_log",
            Severity.WARNING,
            f"the access log ends {log_last:%Y-%m-%d}, {days} day(s) before the journal's last entry "
            f"({last:%Y-%m-%d}): later access is not documented",
            table="access_log",
            count=max(days, 1),
        )
    if not layout.table("disclosure_log").is_file():
        yield Finding(
            "access_log",
            Severity.INFO,
            "the package holds no disclosure log (utleveringslogg); if the old system kept one, convert it too",
        )
