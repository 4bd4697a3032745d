"""The audit record of a conversion run: the conversion read every journal, and that access is logged."""

from __future__ import annotations

import getpass
import platform
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from converters.base import SourceTable
from converters.mapping import Mapping
from formats.model import MODEL_VERSION
from formats.privacy import redact_secrets

TOOL_VERSION = "0.1.0"


def command_line(password: str | None) -> list[str]:
    """Return this process's command line with every password replaced by ***."""
    if not sys.argv:
        return []
    out: list[str] = []
    hide_next = False
    for arg in [Path(sys.argv[0]).name, *sys.argv[1:]]:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        if arg == "--db-password":
            hide_next = True
        elif arg.startswith("--db-password="):
            arg = "--db-password=***"
        out.append(redact_secrets(arg, (password,)))
    return out


def audit_record(
    *,
    password: str | None,
    settings: dict[str, str | None],
    source: Path | str,
    mapping: Mapping,
    tables: list[SourceTable],
    inputs: dict[str, str],
    run_id: str,
    started_at: datetime,
) -> dict[str, object]:
    """Return the run's own record (a tag file of the bag): who, when, where, with what inputs and settings."""
    return {
        "tool": "journalkonvert",
        "tool_version": TOOL_VERSION,
        "model_version": MODEL_VERSION,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "command": command_line(password),
        "settings": settings,
        "source": redact_secrets(
            str(Path(source).absolute()) if isinstance(source, Path) else str(source),
            (password,),
        ),
        "mapping": {"file": mapping.path.name, "sha256": mapping.sha256, "system": mapping.system},
        "inputs": [
            {
                "file": t.file_name,
                "sha256": inputs.get(t.file_name),
                "size": t.size if not t.missing else None,
                "size_unit": t.size_unit,
                "missing": t.missing,
            }
            for t in tables
        ],
        "runtime": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "pyarrow": pa.__version__,
            "duckdb": duckdb.__version__,
        },
        "note": "the conversion read every journal in the source; this record is that access's log entry",
    }
