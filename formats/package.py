"""The archive package: its layout, and building it atomically in a staging folder.

Layout of a package (a BagIt bag)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    audit/conversion-run.json      the run's own record (tag file: who, when, inputs, settings)
    data/README.txt                for a reader without the tool
    data/tables/<category>.parquet + .csv    canonical tables (access copy + archival twin)
    data/raw/<source table>.parquet + .csv   source data no mapping consumes, verbatim
    data/rejects/rejects.parquet + .csv      rejected records, verbatim, with reasons
    data/ledger/records.parquet + .csv       the fate of every source record
    data/ledger/summary.json + summary.csv   the arithmetic per source table
    data/schema/                   JSON Schemas, data dictionary, ADDML structure description
    data/mappings/                 the mapping files used
    data/report/                   the conversion report
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from formats.errors import ArchiveError, OutputExistsError

TABLES_DIR = "tables"
RAW_DIR = "raw"
REJECTS_DIR = "rejects"
LEDGER_DIR = "ledger"
SCHEMA_DIR = "schema"
MAPPINGS_DIR = "mappings"
REPORT_DIR = "report"
AUDIT_FILE = "audit/conversion-run.json"
OWNER_FILE = "owner.json"


@dataclass(frozen=True)
class PackageLayout:
    """Paths inside an archive package (a bag root)."""

    root: Path

    @property
    def data(self) -> Path:
        """The payload folder."""
        return self.root / "data"

    def dir(self, name: str) -> Path:
        """Return the payload sub-folder ``name``."""
        return self.data / name

    def table(self, name: str, suffix: str = ".parquet") -> Path:
        """Return the path of canonical table ``name``."""
        return self.data / TABLES_DIR / f"{name}{suffix}"

    def canonical_tables(self) -> list[str]:
        """Return the names of the canonical tables present."""
        return sorted(p.stem for p in (self.data / TABLES_DIR).glob("*.parquet"))


def open_package(path: Path) -> PackageLayout:
    """Return the layout of an existing package.

    Raises:
        ArchiveError: when ``path`` is not an archive package.
    """
    if not path.exists():
        raise ArchiveError(f"no archive package at {path}", hint="give the folder that journalkonvert convert made")
    if not (path / "bagit.txt").is_file() or not (path / "data").is_dir():
        raise ArchiveError(
            f"{path} is not an archive package (no bagit.txt or data/)", hint="give the folder that holds bagit.txt"
        )
    return PackageLayout(path)


class PackageDraft:
    """A package under construction, in a staging folder beside the target.

    The target appears only when ``publish`` is called, complete. An interrupted run leaves at
    most a hidden staging folder (with an owner record: pid and host); the next run for the same
    target removes it once that process has ended. A run is not resumed part-way: because the
    conversion is deterministic, running it again gives the same package.
    """

    def __init__(self, target: Path) -> None:
        target = target.absolute()
        if target.exists():
            raise OutputExistsError(
                f"{target} already exists; journalkonvert never overwrites a package",
                hint="choose a new ARCHIVE path, or remove the old package first",
            )
        parent = target.parent
        if not parent.is_dir():
            raise ArchiveError(
                f"the folder {parent} does not exist", hint="create it first, or give another ARCHIVE path"
            )
        self.target = target
        self.removed_stale = remove_stale_drafts(target)
        self.work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
        (self.work / OWNER_FILE).write_text(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8"
        )
        self.layout = PackageLayout(self.work / "bag")
        self.scratch = self.work / "scratch"
        self.layout.data.mkdir(parents=True)
        self.scratch.mkdir()

    def publish(self) -> Path:
        """Make the finished bag owner-only and move it into place."""
        restrict_permissions(self.layout.root)
        self.layout.root.rename(self.target)
        shutil.rmtree(self.work, ignore_errors=True)
        return self.target

    def discard(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self.work, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_drafts(target: Path) -> list[Path]:
    """Remove staging folders of earlier runs for ``target`` whose process has ended.

    Only folders that carry our owner record, from this host, with a process that no longer runs,
    are removed; anything else is left alone. Returns the folders removed.
    """
    removed = []
    for folder in sorted(target.parent.glob(f".{target.name}.partial-*")):
        try:
            owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner.get("host") == socket.gethostname() and not _alive(int(owner.get("pid", 0))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def restrict_permissions(root: Path) -> None:
    """Make every folder 0700 and every file 0600: journals are for the owner's eyes only."""
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            Path(dirpath, d).chmod(stat.S_IRWXU)
        for fn in filenames:
            Path(dirpath, fn).chmod(stat.S_IRUSR | stat.S_IWUSR)
    root.chmod(stat.S_IRWXU)
