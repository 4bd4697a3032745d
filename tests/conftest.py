"""Shared fixtures: the third-party Synthea sample (read in place) and a converted package."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SYNTHEA_CSV = SHARED_DATA / "synthea-csv"


@pytest.fixture(scope="session")
def synthea_dir() -> Path:
    """The Synthea CSV sample in ../shared/data (never copied into the repo)."""
    if not (SYNTHEA_CSV / "patients.csv").is_file():
        pytest.skip("../shared/data/synthea-csv is not available")
    return SYNTHEA_CSV


@pytest.fixture(scope="session")
def synthea_package(synthea_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package converted once from the Synthea sample, shared by read-only tests."""
    from converters.pipeline import ConversionOptions, run_conversion
    from reports.package_report import write_report

    target = tmp_path_factory.mktemp("synthea") / "archive"
    run_conversion(ConversionOptions(system="synthea-csv", source=synthea_dir, archive=target),
                   finishers=[write_report])
    return target
