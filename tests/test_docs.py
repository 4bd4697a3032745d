"""The documentation keeps up with the code: commands, help texts, exit codes, reason codes, data dictionary.

When a command's help changes, refresh the help blocks of docs/cli.md (the prose is kept) with::

    python tests/test_docs.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # when run as a script
    sys.path.insert(0, str(REPO))

from convert import cli  # noqa: E402
from formats.errors import ExitCode  # noqa: E402
from formats.ledger import EXCLUDE_REASONS, FLAG_REASONS, REJECT_REASONS  # noqa: E402
from formats.schema_docs import data_dictionary_markdown  # noqa: E402

DOCS = REPO / "docs"
CLI_MD = DOCS / "cli.md"
DOC_FILES = ("cli.md", "errors.md", "mapping.md", "ledger.md", "package.md", "design_notes.md", "data-dictionary.md")
HELP_WIDTH = 78  # what click uses in any terminal of 80 columns or more (COLUMNS=100 included)


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def help_output(name: str) -> str:
    """Return ``journalkonvert <name> --help`` (the group's help for name "") as cli.md shows it."""
    args = [name, "--help"] if name else ["--help"]
    result = CliRunner().invoke(cli, args, prog_name="journalkonvert", terminal_width=HELP_WIDTH)
    assert result.exit_code == 0, result.output
    return result.output.rstrip("\n")


def _section_pattern(name: str) -> re.Pattern[str]:
    title = re.escape(f"journalkonvert {name}".rstrip())
    return re.compile(rf"(^## {title}\n(?:(?!## |```)[^\n]*\n)*```\n)([\s\S]*?)(\n```$)", re.MULTILINE)


def documented_help(name: str) -> str | None:
    """Return the help block shown under ``## journalkonvert <name>`` in docs/cli.md, if any."""
    match = _section_pattern(name).search(CLI_MD.read_text(encoding="utf-8"))
    return match.group(2) if match else None


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_documented_in_cli_md(name: str) -> None:
    headings = re.findall(r"^## (.+?)\s*$", _read("cli.md"), flags=re.MULTILINE)
    assert f"journalkonvert {name}" in headings, f"docs/cli.md has no '## journalkonvert {name}' section"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    help_text = cli.commands[name].help or ""
    assert help_text.strip(), f"{name} has no help text"
    assert "Example" in help_text, f"the help of {name} has no Example block"


@pytest.mark.parametrize("name", ["", *sorted(cli.commands)])
def test_cli_md_shows_the_current_help(name: str) -> None:
    assert documented_help(name) == help_output(name), (
        f"docs/cli.md shows an old --help of 'journalkonvert {name}'; run: python tests/test_docs.py"
    )


def test_data_dictionary_is_what_model_dictionary_prints() -> None:
    expected = data_dictionary_markdown() + "\n"  # click.echo adds one newline
    result = CliRunner().invoke(cli, ["model", "--dictionary"])
    assert result.exit_code == 0
    assert result.output == expected
    assert _read("data-dictionary.md") == expected, (
        "docs/data-dictionary.md is out of date; run: python convert.py model --dictionary > docs/data-dictionary.md"
    )


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda c: c.name)
def test_every_exit_code_is_documented(code: ExitCode) -> None:
    heading = f"## {int(code)} `{code.name}`"
    assert re.search(rf"^{re.escape(heading)}$", _read("errors.md"), flags=re.MULTILINE), (
        f"docs/errors.md has no '{heading}' section"
    )


@pytest.mark.parametrize(
    ("code", "meaning"),
    [*sorted(REJECT_REASONS.items()), *sorted(EXCLUDE_REASONS.items()), *sorted(FLAG_REASONS.items())],
)
def test_every_reason_code_and_flag_is_documented(code: str, meaning: str) -> None:
    assert f"| `{code}` | {meaning} |" in _read("ledger.md"), f"docs/ledger.md lacks the row for {code}"


def test_readme_gives_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text


@pytest.mark.parametrize("name", DOC_FILES)
def test_readme_links_every_doc(name: str) -> None:
    assert f"(docs/{name})" in (REPO / "README.md").read_text(encoding="utf-8")


def test_relative_links_in_docs_resolve() -> None:
    broken = []
    for path in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" not in target and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(REPO)} -> {target}")
    assert not broken, broken


def refresh_cli_md() -> None:
    """Replace the help block of every section of docs/cli.md with the current --help."""
    text = CLI_MD.read_text(encoding="utf-8")
    for name in ["", *sorted(cli.commands)]:
        pattern = _section_pattern(name)
        if not pattern.search(text):
            print(f"docs/cli.md: no section for 'journalkonvert {name}'; add one by hand")
            continue
        current = help_output(name)

        def replace(match: re.Match[str], new: str = current) -> str:
            return match.group(1) + new + match.group(3)

        text = pattern.sub(replace, text, count=1)
    CLI_MD.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    refresh_cli_md()
