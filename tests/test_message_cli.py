"""Message sources on the command line: relative paths, and no identifier or name in any output line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import convert

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ELEVEN_DIGITS = re.compile(r"(?<![0-9a-fA-F])[0-9]{11}(?![0-9a-fA-F])")  # not inside a SHA-256 in hex


@pytest.mark.parametrize(("system", "folder"), [("kith", "kith/messages"), ("hl7v2", "hl7v2-fhir-converter")])
def test_convert_from_a_relative_path_and_print_no_identifiers(
    system: str, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (SHARED / folder).is_dir():
        pytest.skip(f"../shared/data/{folder} is not available")
    if system not in convert.READERS:
        pytest.skip(f"the {system} reader is not registered")
    monkeypatch.chdir(SHARED)
    result = CliRunner().invoke(
        convert.cli, ["-v", "convert", "--system", system, folder, str(tmp_path / "pkg")], obj={}
    )
    assert result.exit_code == 0, result.output
    assert "The package is valid" in result.output
    assert not ELEVEN_DIGITS.findall(result.output), "an 11-digit number (a fødselsnummer?) reached the console"
