"""``journalkonvert diff OLD NEW``: nothing for a package and itself; a changed mapping rule names what moved."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from convert import cli
from formats.bag import write_bag_info, write_manifest, write_tagmanifest
from formats.errors import ExitCode
from reports.package_diff import diff_packages

REPO = Path(__file__).resolve().parent.parent
EXCLUDE_RULE = (
    "    exclude:\n"
    "      - where: {column: ENCOUNTERCLASS, equals: emergency}\n"
    "        reason: emergency visits are kept in the hospital's journal\n"
)


@pytest.fixture(scope="module")
def excluded_package(synthea_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Synthea sample converted with one more rule: emergency encounters excluded."""
    from converters.pipeline import ConversionOptions, run_conversion
    from reports.package_report import write_report

    folder = tmp_path_factory.mktemp("excluded")
    shipped = (REPO / "mappings" / "synthea-csv.yaml").read_text(encoding="utf-8")
    assert shipped.count("\n  encounters:\n") == 1
    mapping = folder / "synthea-csv.yaml"
    mapping.write_text(shipped.replace("\n  encounters:\n", "\n  encounters:\n" + EXCLUDE_RULE), encoding="utf-8")
    target = folder / "archive"
    run_conversion(
        ConversionOptions(system="synthea-csv", source=synthea_dir, archive=target, mapping=mapping),
        finishers=[write_report],
    )
    return target


def _emergency_encounters(synthea_dir: Path) -> int:
    with (synthea_dir / "encounters.csv").open(encoding="utf-8", newline="") as fh:
        return sum(1 for row in csv.DictReader(fh) if row["ENCOUNTERCLASS"] == "emergency")


def test_package_against_itself_is_no_change(synthea_package: Path) -> None:
    diff = diff_packages(synthea_package, synthea_package)
    assert not diff.changed
    assert diff.to_dict()["changed"] is False
    result = CliRunner().invoke(cli, ["diff", str(synthea_package), str(synthea_package)])
    assert result.exit_code == 0
    assert "no change" in result.output


def test_an_identical_copy_is_no_change(synthea_package: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(synthea_package, copy)
    assert not diff_packages(synthea_package, copy).changed


def test_one_exclude_rule_names_the_table_and_the_count_that_moved(
    synthea_package: Path, excluded_package: Path, synthea_dir: Path
) -> None:
    moved = _emergency_encounters(synthea_dir)
    assert moved > 0
    diff = diff_packages(synthea_package, excluded_package)
    assert diff.changed
    assert [(c.name, c.delta) for c in diff.tables] == [("encounter", -moved)]
    [line] = diff.ledger
    assert line.source_table == "encounters"
    assert line.new["converted"] == line.old["converted"] - moved
    assert line.new["excluded"] == line.old["excluded"] + moved
    assert line.new["source_rows"] == line.old["source_rows"]
    assert [(c.name, c.delta) for c in diff.reasons] == [("encounters: excluded_by_mapping", moved)]
    [mapping] = diff.mappings
    assert mapping.old_sha256 != mapping.new_sha256
    added = [ln for ln in mapping.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert added == [f"+{ln}" for ln in EXCLUDE_RULE.splitlines()]
    assert "data/tables/encounter.parquet" in diff.files["data/tables"]["changed"]
    assert mapping.name == "synthea-csv.yaml"
    assert "data/mappings/synthea-csv.yaml" in diff.files["data/mappings"]["changed"]


def test_cli_diff_json_and_text(synthea_package: Path, excluded_package: Path, tmp_path: Path) -> None:
    out = tmp_path / "diff.json"
    result = CliRunner().invoke(cli, ["diff", str(synthea_package), str(excluded_package), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "encounter" in result.output and "excluded_by_mapping" in result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["changed"] is True
    assert body["tables"][0]["name"] == "encounter" and body["tables"][0]["delta"] < 0


def test_older_package_without_report_or_ledger_summary(synthea_package: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(synthea_package, old)
    shutil.rmtree(old / "data" / "report")
    (old / "data" / "ledger" / "summary.json").unlink()
    oxum = write_manifest(old)  # a bag as an older version sealed it: without those files
    info = dict(
        line.split(": ", 1) for line in (old / "bag-info.txt").read_text(encoding="utf-8").splitlines() if ": " in line
    )
    write_bag_info(old, {k: v for k, v in info.items() if k != "Payload-Oxum"}, oxum)
    write_tagmanifest(old)
    diff = diff_packages(old, synthea_package)
    assert diff.changed
    assert not diff.tables  # the canonical tables are the same
    assert all(c.old["source_rows"] == 0 for c in diff.ledger)
    assert "data/report/report.json" in diff.files["data/report"]["added"]
    assert diff.files["data/ledger"]["added"] == ["data/ledger/summary.json"]


def test_not_a_package_exits_2(synthea_package: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["diff", str(synthea_package), str(tmp_path)])
    assert result.exit_code == ExitCode.INVALID_INPUT
