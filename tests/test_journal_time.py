"""`show` prints times as the clinic saw them (Europe/Oslo), though the package stores UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reports.console import _fmt
from reports.journal import _local, _sort_key


def test_instants_are_shown_in_norwegian_time() -> None:
    winter = datetime(2020, 1, 2, 7, 0, tzinfo=UTC)  # 08:00 in Oslo (CET)
    summer = datetime(2020, 7, 2, 6, 15, tzinfo=UTC)  # 08:15 in Oslo (CEST)
    assert _fmt(_local(winter)) == "2020-01-02 08:00"
    assert _fmt(_local(summer)) == "2020-07-02 08:15"
    assert _fmt(_local(date(2020, 1, 2))) == "2020-01-02"


def test_order_is_by_instant_across_the_dst_change() -> None:
    before = _local(datetime(2020, 10, 25, 0, 30, tzinfo=UTC))  # 02:30 CEST
    after = _local(datetime(2020, 10, 25, 1, 15, tzinfo=UTC))  # 02:15 CET, later
    assert _sort_key(before) < _sort_key(after)
