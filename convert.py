"""journalkonvert command line: parses options, calls the library, renders results, maps errors to exit codes.

It holds no conversion logic. ``python convert.py ...`` and ``journalkonvert ...`` are the same.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from converters import READERS
from converters.audit_record import TOOL_VERSION
from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from formats.errors import ConversionError, ExitCode
from formats.package import open_package
from formats.privacy import mask_text

err = Console(stderr=True)
out = Console()
log = logging.getLogger("journalkonvert")
DEMO_MARKER = ".journalkonvert-demo"


class RichProgress:
    """Progress bar on stderr; silent when quiet or stderr is not a terminal."""

    def __init__(self, *, enabled: bool, units: str = "bytes") -> None:
        self.enabled = enabled and err.is_terminal
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn() if units == "bytes" else TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
        ]
        self.progress = Progress(*columns, console=err, transient=True)
        self.task: Any = None

    def start(self, total: int, description: str) -> None:
        """Begin."""
        if self.enabled:
            self.progress.start()
            self.task = self.progress.add_task(description, total=total)

    def advance(self, units: int, description: str | None = None) -> None:
        """Advance."""
        if self.enabled and self.task is not None:
            self.progress.update(self.task, advance=units, description=description or None)

    def finish(self) -> None:
        """Stop."""
        if self.enabled:
            self.progress.stop()


def configure_logging(verbose: int, *, quiet: bool) -> None:
    """Send log records to stderr through rich; never to stdout."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)])


class JournalkonvertGroup(click.Group):
    """Maps every ConversionError to its exit code and a clear message, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn known errors into exit codes."""
        try:
            return super().invoke(ctx)
        except ConversionError as exc:
            err.print(Text.assemble(("error: ", "bold red"), mask_text(exc.message)), highlight=False)
            if exc.hint:
                err.print(Text.assemble(("  → ", "yellow"), mask_text(exc.hint)), highlight=False)
            ctx.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            err.print("[red]interrupted[/]: nothing was written into place")
            ctx.exit(int(ExitCode.INTERRUPTED))
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a clear exit
            log.debug("internal error", exc_info=True)
            where = exc.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            place = f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}" if where else ""
            detail = f"{type(exc).__name__}{place}: {mask_text(str(exc))[:300]}"
            err.print(Text.assemble(("internal error: ", "bold red"), detail), highlight=False)
            err.print("  [yellow]→[/] this is a bug in journalkonvert; run again with -vv and report the traceback")
            ctx.exit(int(ExitCode.INTERNAL))


@click.group(cls=JournalkonvertGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(TOOL_VERSION, prog_name="journalkonvert")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars, only errors on stderr.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:  # noqa: FBT001
    """journalkonvert: move patient journals out of legacy systems into a verifiable archive.

    \b
    Example:
      journalkonvert convert --system synthea-csv export/ archive/
      journalkonvert validate archive/
      journalkonvert query archive/ "select count(*) from patient"
    """
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    configure_logging(verbose, quiet=quiet)


@cli.command()
def systems() -> None:
    """List the source systems journalkonvert reads, and what each reads.

    \b
    Example:
      journalkonvert systems
    """
    from rich.table import Table

    table = Table("system", "title", "reads")
    for name, reader in sorted(READERS.items()):
        table.add_row(name, reader.title, reader.reads)
    out.print(table)


@cli.command()
@click.option(
    "--system",
    "system",
    required=True,
    type=click.Choice(sorted(READERS)),
    help="The source system (see: journalkonvert systems).",
)
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A mapping file to use instead of the system's shipped one.",
)
@click.option(
    "--encoding",
    help="Text encoding of the source (utf-8, cp1252, cp865, cp850, latin-1, iso646-no, or auto per value).",
)
@click.option(
    "--no-pdfa",
    is_flag=True,
    help="Keep documents and messages as originals only, without PDF/A renditions (faster; for trial runs).",
)
@click.option("--no-validate", is_flag=True, help="Skip validating the package after the conversion.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or summary (same as journalkonvert -q).")
@click.option(
    "--db-password",
    envvar="JOURNALKONVERT_DB_PASSWORD",
    show_envvar=True,
    help="Database password, if not in the URL (better: the environment variable).",
)
@click.option("--ask-password", is_flag=True, help="Ask for the database password (not echoed).")
@click.argument("source")
@click.argument("archive", type=click.Path(path_type=Path))
@click.pass_context
def convert(  # noqa: PLR0913
    ctx: click.Context,
    system: str,
    mapping: Path | None,
    encoding: str | None,
    no_pdfa: bool,  # noqa: FBT001
    no_validate: bool,  # noqa: FBT001
    quiet: bool,  # noqa: FBT001
    db_password: str | None,
    ask_password: bool,  # noqa: FBT001
    source: str,
    archive: Path,
) -> None:
    """Convert SOURCE (a folder, or a database URL) into a new archive package at ARCHIVE.

    The package is built in a hidden folder beside ARCHIVE and moved into place only when it is
    complete. Every source record is accounted for in the ledger; bad records are rejected with
    a reason, never dropped. A database password is never written anywhere.

    \b
    Example:
      journalkonvert convert --system synthea-csv ../shared/data/synthea-csv archive/
      journalkonvert convert --system csv --mapping my.yaml --encoding cp865 export/ archive/
      JOURNALKONVERT_DB_PASSWORD=... journalkonvert convert --system sql --mapping m.yaml \\
          postgresql+psycopg2://jk@127.0.0.1/epj archive/
    """
    quiet = quiet or ctx.obj["quiet"]
    if ask_password:
        db_password = click.prompt("Database password", hide_input=True, err=True)
    result = _convert(
        ConversionOptions(
            system=system,
            source=source if "://" in source else Path(source),
            archive=archive,
            mapping=mapping,
            encoding=encoding,
            password=db_password,
            renditions=not no_pdfa,
        ),
        quiet=quiet,
    )
    _summarise(result, quiet=quiet)
    if not no_validate:
        _validate_or_exit(result.archive, quiet=quiet)


def _convert(options: ConversionOptions, *, quiet: bool) -> ConversionResult:
    from reports.mapping_doc import write_mapping_doc
    from reports.package_report import write_report

    document = functools.partial(write_mapping_doc, lang="nb")
    return run_conversion(options, progress=RichProgress(enabled=not quiet), finishers=[write_report, document])


def _summarise(result: ConversionResult, *, quiet: bool) -> None:
    if quiet:
        return
    from reports.console import render_ledger

    render_ledger(err, result.ledger.to_dict(), "en")
    for note in result.notes:
        err.print(f"[yellow]note[/] {note['table']}: {note['message']}")
    err.print(
        f"[green]Package written:[/] {result.archive}  ({result.source_rows} source records, "
        f"{result.seconds:.1f} s, run {result.run_id})"
    )


def _validate_or_exit(archive: Path, *, quiet: bool, lang: str = "en") -> None:
    from reports.console import render_validation
    from validation import validate_archive

    report = validate_archive(archive, progress=RichProgress(enabled=not quiet, units="checks"))
    if not quiet or not report.valid:
        render_validation(err, report, lang)
    if not report.valid:
        sys.exit(int(ExitCode.VALIDATION_FAILED))


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON on stdout.")
@click.option("--lang", type=click.Choice(["nb", "en"]), default="nb", show_default=True, help="Language.")
@click.option(
    "--checks-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML or YAML file with thresholds and severities per check (docs/checks.md).",
)
@click.pass_context
def validate(ctx: click.Context, archive: Path, as_json: bool, lang: str, checks_config: Path | None) -> None:  # noqa: FBT001
    """Check an archive package: fixity, schemas, CSV twins, ledger, references, self-description.

    Exits 0 only when the package is valid (no fatal or error findings), else 4.

    \b
    Example:
      journalkonvert validate archive/
      journalkonvert validate archive/ --json > findings.json
      journalkonvert validate archive/ --checks-config checks.toml
    """
    from reports.console import render_validation
    from validation import CHECKS, load_check_settings, validate_archive

    settings = load_check_settings(checks_config, [c.id for c in CHECKS]) if checks_config else None
    report = validate_archive(
        archive,
        progress=RichProgress(enabled=not ctx.obj["quiet"] and not as_json, units="checks"),
        settings=settings,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        render_validation(out, report, lang)
    if not report.valid:
        sys.exit(int(ExitCode.VALIDATION_FAILED))


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path))
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write the findings as JSON."
)
@click.option("--lang", type=click.Choice(["nb", "en"]), default="nb", show_default=True, help="Language.")
@click.pass_context
def verify(ctx: click.Context, archive: Path, json_path: Path | None, lang: str) -> None:
    """Verify a package as an archivist would, trusting only the bag (docs/verify.md).

    Fixity and completeness (our own manifest reading and bagit-python), every file's format
    identified by its content and on the archival list, every Parquet file compared with its CSV
    twin, every PDF outside originals/ verified as PDF/A-2, and the self-description (README,
    ADDML, JSON Schemas). Works on packages made by older versions. Exits 0 when the package
    passes, else 4. The short report goes to stderr.

    \b
    Example:
      journalkonvert verify archive/
      journalkonvert verify archive/ --json verify.json
    """
    from reports.console import render_validation
    from validation.verify import verify_package

    report = verify_package(archive, progress=RichProgress(enabled=not ctx.obj["quiet"], units="checks"))
    if json_path is not None:
        json_path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    render_validation(err, report, lang)
    if not report.valid:
        sys.exit(int(ExitCode.VALIDATION_FAILED))


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write the differences as JSON."
)
def diff(old: Path, new: Path, json_path: Path | None) -> None:
    """Show what changed between two conversions of the same source (OLD and NEW packages).

    Rows per canonical table, the ledger per source table, rejects and exclusions per reason,
    flags and notes, the mapping files (SHA-256 and a unified diff), report findings, and payload
    files added, removed or changed per folder. Exits 0 whatever differs (2 if a package cannot
    be read).

    \b
    Example:
      journalkonvert diff archive-v1/ archive-v2/
      journalkonvert diff archive-v1/ archive-v2/ --json diff.json
    """
    from reports.package_diff import diff_packages, render_diff

    result = diff_packages(old, new)
    if json_path is not None:
        json_path.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    render_diff(out, result)


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path))
@click.argument("sql")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def query(archive: Path, sql: str, output_format: str) -> None:
    """Run SQL (DuckDB) over the package's tables by their canonical names.

    Tables: the canonical ones (patient, encounter, ...), raw_<source table>, rejects, ledger.

    \b
    Example:
      journalkonvert query archive/ "select count(*) from patient"
      journalkonvert query archive/ "select fate, count(*) from ledger group by 1" --format csv
    """
    from reports.console import format_result, render_query
    from reports.query import run_query

    result = run_query(open_package(archive), sql)
    if output_format == "table":
        render_query(out, result)
    else:
        click.echo(format_result(result, output_format), nl=False)


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--patient", "patient", required=True, help="patient_id, or the patient's identifier.")
@click.option("--lang", type=click.Choice(["nb", "en"]), default="nb", show_default=True, help="Language.")
@click.option(
    "--pdf",
    "pdf_target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the whole journal as PDF/A-2b to this file instead of printing it.",
)
def show(archive: Path, patient: str, lang: str, pdf_target: Path | None) -> None:
    """Show one patient's journal in the terminal: CAVE first, then everything in time order.

    \b
    Example:
      journalkonvert show archive/ --patient 3edac2e3-d223-6fae-d515-daf96ef6bc76
      journalkonvert show archive/ --patient 3edac2e3-d223-6fae-d515-daf96ef6bc76 --pdf journal.pdf
    """
    if pdf_target is not None:
        from reports.journal_pdf import write_journal_pdf

        printout = write_journal_pdf(open_package(archive), patient, pdf_target, lang=lang)
        out.print(f"{pdf_target}: PDF/A-2b, {printout.page_count} pages, {printout.notes} journal notes")
        return
    from reports.console import render_journal
    from reports.journal import load_journal

    render_journal(out, load_journal(open_package(archive), patient), lang)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("demo-output"))
@click.option("--patients", default=200, show_default=True, help="How many synthetic patients.")
@click.pass_context
def demo(ctx: click.Context, directory: Path, patients: int) -> None:
    """Build a synthetic GP practice, convert it, validate it, and say where everything is.

    The practice (DIRECTORY/source) is what a legacy system leaves: a SQLite database, KITH
    messages in meldinger/ and attachments in vedlegg/ (see docs/demo-practice.md); it is
    converted with --system practice. No real person is in the demo data. Running it again
    replaces the earlier demo in DIRECTORY.

    \b
    Example:
      journalkonvert demo            (into ./demo-output)
      journalkonvert demo /tmp/jk --patients 50
    """
    from converters.practice_generator import write_practice

    quiet = ctx.obj["quiet"]
    if directory.exists():
        if not (directory / DEMO_MARKER).exists():
            raise ConversionError(
                f"{directory} exists and is not a demo folder",
                hint="give a new or empty folder, or an earlier demo folder",
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / DEMO_MARKER).write_text("made by journalkonvert demo\n", encoding="utf-8")
    source, archive = directory / "source", directory / "archive"
    rows = write_practice(source, patients=patients)
    if not quiet:
        records = sum(n for table, n in rows.items() if table.isupper())
        err.print(
            f"Synthetic practice: {source} ({records} database rows, {rows['meldinger']} messages, "
            f"{rows['vedlegg']} attachments)"
        )
    result = _convert(ConversionOptions(system="practice", source=source, archive=archive), quiet=quiet)
    _summarise(result, quiet=quiet)
    _validate_or_exit(result.archive, quiet=quiet)
    from reports.query import run_query

    first = run_query(open_package(archive), "select patient_id from patient order by patient_id limit 1")
    pid = first.column("patient_id")[0].as_py()
    out.print(f"\n[bold]Archive package:[/] {archive.resolve()}")
    report = (archive / "data" / "report").resolve()
    out.print(f"[bold]Conversion report:[/] {report / 'report.html'}  (also report.pdf, report.json)")
    out.print("Try:")
    out.print(f'  journalkonvert query {archive} "select count(*) from patient"')
    out.print(f"  journalkonvert show {archive} --patient {pid}")
    out.print(f"  journalkonvert show {archive} --patient {pid} --pdf journal.pdf")
    out.print(f"  journalkonvert validate {archive}")


@cli.command()
@click.argument("source")
@click.option(
    "--system", "system", type=click.Choice(sorted(READERS)), help="Reader (default: sql for a URL, else csv)."
)
@click.option("--encoding", help="Encoding of the files (default: detected per file).")
@click.option("--delimiter", help="Field separator of the files (default: detected per file).")
@click.option("--top", default=10, show_default=True, help="Most frequent values shown per column.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the scan as JSON.")
@click.option(
    "--html", "html_path", type=click.Path(path_type=Path, dir_okay=False), help="Write a readable HTML page."
)
@click.option(
    "--draft-mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a mapping skeleton listing every table and column, to fill in.",
)
@click.option("--db-password", envvar="JOURNALKONVERT_DB_PASSWORD", show_envvar=True, help="Database password.")
@click.option("--ask-password", is_flag=True, help="Ask for the database password (not echoed).")
def scan(  # noqa: PLR0913
    source: str,
    system: str | None,
    encoding: str | None,
    delimiter: str | None,
    top: int,
    json_path: Path | None,
    html_path: Path | None,
    draft_mapping: Path | None,
    db_password: str | None,
    ask_password: bool,  # noqa: FBT001
) -> None:
    """Profile a source (folder or database URL): every table and column, before mapping it.

    Per column: rows, nulls, distinct values, type, min/max, date range, frequent values, shapes,
    text encoding and suspected mojibake. Columns that look like identifiers, names or free text
    never show values, only counts and shapes. Without --json/--html the JSON goes to stdout.

    \b
    Example:
      journalkonvert scan ../shared/data/synthea-csv --html scan.html --draft-mapping draft.yaml
      JOURNALKONVERT_DB_PASSWORD=... journalkonvert scan postgresql+psycopg2://jk@127.0.0.1/epj --json scan.json
    """
    from converters.scan import draft_mapping as make_draft
    from converters.scan import scan_source
    from reports.scan_render import render_html, render_json

    if ask_password:
        db_password = click.prompt("Database password", hide_input=True, err=True)
    chosen = system or ("sql" if "://" in source else "csv")
    result = scan_source(
        chosen,
        source if "://" in source else Path(source),
        encoding=encoding,
        delimiter=delimiter,
        password=db_password,
        top=top,
    )
    if json_path:
        json_path.write_text(render_json(result), encoding="utf-8")
    if html_path:
        html_path.write_text(render_html(result), encoding="utf-8")
    if draft_mapping:
        draft_mapping.write_text(make_draft(result), encoding="utf-8")
    if not json_path and not html_path:
        click.echo(render_json(result))
    sensitive = sum(1 for t in result.tables for c in t.columns if c.sensitive)
    err.print(
        f"Scanned {len(result.tables)} tables, {sum(t.rows for t in result.tables)} rows; "
        f"{sensitive} columns treated as sensitive (values not shown)",
        highlight=False,
    )


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "json", "pdf"]),
    default="html",
    show_default=True,
    help="html (for people), json (for machines; reports/report_schema.json), pdf (PDF/A-2b).",
)
@click.option("--lang", type=click.Choice(["nb", "en"]), default="nb", show_default=True, help="Language.")
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
def report(archive: Path, output_format: str, lang: str, target: Path | None) -> None:
    """Write the conversion report of a package: what came across, what did not and why, how to find it.

    Runs every check (fixity included) and renders the report for the clinic (six questions
    answered), the reconciliation, rejects by reason, the retrieval guide, the mapping, the
    findings and the archivist's section. Prints to stdout unless -o is given (PDF needs -o).

    \b
    Example:
      journalkonvert report archive/ -o rapport.html
      journalkonvert report archive/ --format pdf --lang en -o report.pdf
      journalkonvert report archive/ --format json | jq .reconciliation.totals
    """
    from reports.report_pdf import archive_report

    if output_format == "pdf" and target is None:
        raise click.UsageError("--format pdf writes a binary file: give -o FILE")
    data = archive_report(archive, output_format=output_format, lang=lang)
    if target is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        target.write_bytes(data)
        err.print(f"{target}: {output_format}, {len(data)} bytes")


@cli.command("mapping-doc")
@click.argument("mapping", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--source", help="A folder or database URL: list every source column, mapped or not.")
@click.option("--system", "system", type=click.Choice(sorted(READERS)), help="Reader for --source.")
@click.option("--archive", type=click.Path(path_type=Path), help="A package this mapping made: show its row counts.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
    help="Output format.",
)
@click.option("--lang", type=click.Choice(["nb", "en"]), default="nb", show_default=True, help="Language.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE, not stdout.")
@click.option("--db-password", envvar="JOURNALKONVERT_DB_PASSWORD", show_envvar=True, help="Database password.")
def mapping_doc(  # noqa: PLR0913
    mapping: Path,
    source: str | None,
    system: str | None,
    archive: Path | None,
    output_format: str,
    lang: str,
    output: Path | None,
    db_password: str | None,
) -> None:
    """Document a mapping for people: every source table and column with its fate.

    For each column: which canonical field it fills and with which transform, or that it is
    preserved raw, or deliberately dropped and why. With --source, every column of the source
    is listed (also those the mapping never names); with --archive, the row counts of a
    conversion (read, converted, preserved, rejected, excluded). Every package carries this
    document for its own mapping in data/mappings/.

    \b
    Example:
      journalkonvert mapping-doc mappings/synthea-csv.yaml --source ../shared/data/synthea-csv
      journalkonvert mapping-doc mappings/omop.yaml --archive archive/ --format html -o omop.html
    """
    from converters import get_reader
    from converters.mapping import load_mapping
    from reports.mapping_doc import mapping_document, render_html, render_markdown

    loaded = load_mapping(mapping)
    columns: dict[str, list[str]] | None = None
    if source:
        reader = get_reader(system or ("sql" if "://" in source else "csv"))()
        info = reader.source_info(source if "://" in source else Path(source), mapping=mapping, password=db_password)
        try:
            tables = reader.tables(info, loaded)
        finally:
            reader.close()
        columns = {t.name: list(t.columns) for t in tables if not t.missing}
    ledger = None
    if archive:
        summary = open_package(archive).dir("ledger") / "summary.json"
        ledger = json.loads(summary.read_text(encoding="utf-8"))
    doc = mapping_document(loaded, source_columns=columns, ledger=ledger)
    text = render_html(doc, lang) if output_format == "html" else render_markdown(doc, lang)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command()
@click.option("--dictionary", "what", flag_value="dictionary", default=True, help="The data dictionary (Markdown).")
@click.option("--json-schema", "what", flag_value="json-schema", help="JSON Schemas of all tables.")
def model(what: str) -> None:
    """Print the canonical model: data dictionary or JSON Schemas (generated from one declaration).

    \b
    Example:
      journalkonvert model --dictionary > docs/data-dictionary.md
    """
    from formats.model import TABLES
    from formats.schema_docs import data_dictionary_markdown, table_json_schema

    if what == "json-schema":
        click.echo(json.dumps({n: table_json_schema(s) for n, s in TABLES.items()}, indent=2, ensure_ascii=False))
    else:
        click.echo(data_dictionary_markdown())


def main() -> None:
    """Console entry point."""
    cli(obj={})


if __name__ == "__main__":
    main()
