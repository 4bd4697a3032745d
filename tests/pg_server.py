"""A real, throw-away PostgreSQL server for tests, on loopback only.

``pg_server()`` is a context manager: it finds PostgreSQL's server programs (``initdb``, ``pg_ctl``
and ``postgres`` on PATH or under ``/usr/lib/postgresql/*/bin``), installs Debian's ``postgresql``
package with ``apt-get`` when they are missing and that is allowed (as root, or with passwordless
``sudo``), creates a cluster in a fresh temporary folder, starts it on 127.0.0.1 at a free port
with its Unix socket inside that folder, and creates the database ``epj`` owned by the login role
``jk`` with a random password. On exit the server is stopped and the folder removed.

PostgreSQL refuses to run as root. Under root (CI) the cluster belongs to the ``postgres`` system
user that Debian's package creates (``nobody`` where there is none): the temporary folder is
given to that user and the server programs run under its uid; clients (``psql``, drivers) run as
the caller.

Authentication: over TCP every connection needs a password (``scram-sha-256``); over the private
Unix socket the superuser ``postgres`` is trusted, which only the caller (and root) can reach.

``pg_server_fixture()`` turns it into a pytest fixture that skips, with the reason and the install
command, when PostgreSQL is not installed and cannot be installed. Set ``JK_REQUIRE_PG=1`` to make
that a failure instead (for CI, so that the database tests never disappear silently).

Example:
    >>> with pg_server() as pg:  # doctest: +SKIP
    ...     _ = pg.load_csv_folder(Path("../shared/data/eunomia-synthea27nj-omop"))
    ...     pg.psql("select count(*) from person")
    '28'
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import glob
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from server_tools import apt_install, free_port, world_traversable

INSTALL_COMMAND = "apt-get install -y postgresql"
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "postgres"
START_TIMEOUT = 60


class PgUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed here and cannot be installed."""


class PgStartError(RuntimeError):
    """The server programs exist, but the cluster could not be created or started."""


class PsqlError(subprocess.CalledProcessError):
    """psql failed; the message includes what psql wrote to stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}: {(self.stderr or '').strip()}"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bin_dir() -> Path | None:
    """Return the folder holding initdb, pg_ctl and postgres, or None.

    PATH first (symbolic links resolved, so that ``postgres`` is found beside ``pg_ctl``), then the
    Debian/Ubuntu layout ``/usr/lib/postgresql/<version>/bin`` and the PGDG RPM layout
    ``/usr/pgsql-<version>/bin``, newest version first.
    """
    candidates: list[Path] = []
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
        candidates.append(Path(found).parent)
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        candidates.extend(sorted((Path(p) for p in glob.glob(pattern)), key=_version_key, reverse=True))
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in SERVER_PROGRAMS):
            return folder
    return None


def install_postgresql() -> None:
    """Install Debian's ``postgresql`` package with apt-get (refreshing the package lists if needed).

    Raises:
        PgUnavailable: when apt-get is missing, there are no rights to use it, or it fails.
    """
    apt_install("postgresql", "PostgreSQL", PgUnavailable)


def _driver() -> str:
    """Return the SQLAlchemy driver name of an installed PostgreSQL DBAPI (psycopg2 preferred)."""
    for module, name in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        with contextlib.suppress(ImportError):
            __import__(module)
            return name
    return "psycopg2"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PgServer:
    """One PostgreSQL cluster in a temporary folder; ``start()`` then ``stop()`` (or use ``pg_server()``)."""

    def __init__(self, *, database: str = "epj", user: str = "jk", install: bool = True) -> None:
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(18)
        self.host = "127.0.0.1"
        self.port = 0
        self.install = install
        self.bin_dir: Path | None = None
        self.base_dir: Path | None = None
        self.startup_seconds = 0.0
        self._run_as: tuple[int, int] | None = None  # (uid, gid) of the cluster's owner when we are root
        self._running = False

    # --- public ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database (with the password), for the installed driver."""
        return self.url_for(_driver())

    def url_for(self, driver: str, *, password: str | None = None) -> str:
        """Return the SQLAlchemy URL for ``driver`` (psycopg2, psycopg, pg8000, ...)."""
        pw = self.password if password is None else password
        return f"postgresql+{driver}://{self.user}:{pw}@{self.host}:{self.port}/{self.database}"

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        assert self.base_dir is not None, "the server is not started"
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's Unix socket."""
        assert self.base_dir is not None, "the server is not started"
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        assert self.base_dir is not None, "the server is not started"
        return self.base_dir / "server.log"

    def start(self) -> PgServer:
        """Create and start the cluster, and the role and database.

        Raises:
            PgUnavailable: PostgreSQL is not installed and cannot be installed here.
            PgStartError: the cluster could not be created or started (the log is in the message).
        """
        started = time.monotonic()
        self.bin_dir = find_bin_dir()
        if self.bin_dir is None:
            if not self.install:
                msg = f"PostgreSQL server programs not found; run: sudo {INSTALL_COMMAND}"
                raise PgUnavailable(msg)
            install_postgresql()
            self.bin_dir = find_bin_dir()
            if self.bin_dir is None:
                msg = f"`{INSTALL_COMMAND}` ran, yet initdb/pg_ctl/postgres are still not found"
                raise PgUnavailable(msg)
        atexit.register(self.stop)
        try:
            self._make_folder()
            self._initdb()
            self._start_server()
            self._create_role_and_database()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder. Safe to call twice."""
        if self._running:
            self._running = False
            done = self._server_cmd([self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
            if done.returncode != 0:
                self._kill_postmaster()
        if self.base_dir is not None and self.base_dir.exists():
            shutil.rmtree(self.base_dir, ignore_errors=True)
        atexit.unregister(self.stop)

    def psql(self, sql: str, *, superuser: bool = False, database: str | None = None) -> str:
        """Run SQL with psql and return its output (unaligned, tuples only, trimmed).

        As the test role over TCP with its password; with ``superuser`` as ``postgres`` over the
        Unix socket. Raises ``PsqlError`` (a ``CalledProcessError`` with psql's message) on an error.
        """
        done = self._psql(["-c", sql], superuser=superuser, database=database, quiet=True)
        return done.stdout.strip()

    def load_csv_folder(self, folder: Path, *, schema: str = "public") -> dict[str, int]:
        """Create one table per ``*.csv`` file of ``folder`` and load it with COPY.

        The table is named after the file's stem in lower case, its columns after the header row,
        all of type ``text``; unquoted empty fields become NULL (COPY's CSV rule). The tables belong
        to the test role.

        Returns:
            Rows loaded per table.
        """
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        ddl = [f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(schema)};"]
        targets: list[tuple[Path, str]] = []
        for path in files:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh), None)
            if not header:
                continue
            table = f"{_quote_ident(schema)}.{_quote_ident(path.stem.lower())}"
            columns = ", ".join(f"{_quote_ident(c)} text" for c in header)
            ddl.append(f"CREATE TABLE {table} ({columns});")
            targets.append((path, table))
        self._psql(["-f", "-"], input_text="\n".join(ddl), quiet=True)
        loaded: dict[str, int] = {}
        for path, table in targets:
            with path.open("rb") as data:
                done = self._psql(["-c", f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)"], stdin=data)
            match = re.search(r"COPY (\d+)", done.stdout)
            loaded[path.stem.lower()] = int(match.group(1)) if match else 0
        return loaded

    # --- internals ---------------------------------------------------------------------------

    def _bin(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def _psql_program(self) -> str:
        assert self.bin_dir is not None
        own = self.bin_dir / "psql"
        if os.access(own, os.X_OK):
            return str(own)
        found = shutil.which("psql")
        if found is None:
            msg = "psql not found (install postgresql-client)"
            raise PgUnavailable(msg)
        return found

    def _client_env(self) -> dict[str, str]:
        # no inherited PG* settings (PGPASSWORD, PGSERVICE, ...): the test decides everything
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCLIENTENCODING"] = "UTF8"
        env["PGCONNECT_TIMEOUT"] = "10"
        return env

    def _psql(
        self,
        args: list[str],
        *,
        superuser: bool = False,
        database: str | None = None,
        quiet: bool = False,
        input_text: str | None = None,
        stdin: Any = None,
    ) -> subprocess.CompletedProcess[str]:
        env = self._client_env()
        if superuser:
            where = ["-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER]
        else:
            where = ["-h", self.host, "-p", str(self.port), "-U", self.user]
            env["PGPASSWORD"] = self.password
        cmd = [self._psql_program(), "-X", "-w", "-v", "ON_ERROR_STOP=1", *where, "-d", database or self.database]
        if quiet:
            cmd += ["-q", "-A", "-t"]
        done = subprocess.run(
            [*cmd, *args],
            input=input_text,
            stdin=stdin if input_text is None else None,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise PsqlError(done.returncode, cmd[:1] + args, done.stdout, done.stderr)
        return done

    def _make_folder(self) -> None:
        if os.geteuid() != 0:
            self.base_dir = Path(tempfile.mkdtemp(prefix="jk-pg-"))
            return
        # root: the cluster must belong to an unprivileged user, who must be able to reach the folder
        try:
            owner = pwd.getpwnam(SUPERUSER)
        except KeyError:
            owner = pwd.getpwnam("nobody")
        self._run_as = (owner.pw_uid, owner.pw_gid)
        parent = Path(tempfile.gettempdir())
        if not world_traversable(parent):
            parent = Path("/tmp")  # a private 0700 folder is created inside
        self.base_dir = Path(tempfile.mkdtemp(prefix="jk-pg-", dir=parent))
        os.chown(self.base_dir, *self._run_as)

    def _server_cmd(self, cmd: list[str]) -> subprocess.CompletedProcess[str]:
        """Run a server program, under the cluster owner's uid when we are root."""
        assert self.base_dir is not None
        extra: dict[str, Any] = {}
        env = self._client_env()
        if self._run_as is not None:
            uid, gid = self._run_as
            extra = {"user": uid, "group": gid, "extra_groups": []}
            env["HOME"] = str(self.base_dir)
        return subprocess.run(
            cmd, cwd=self.base_dir, env=env, capture_output=True, text=True, check=False, timeout=120, **extra
        )

    def _initdb(self) -> None:
        self.socket_dir.mkdir()
        if self._run_as is not None:
            os.chown(self.socket_dir, *self._run_as)
        done = self._server_cmd(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if done.returncode != 0:
            msg = f"initdb failed: {done.stderr.strip() or done.stdout.strip()}"
            raise PgStartError(msg)

    def _start_server(self) -> None:
        last = ""
        for _attempt in range(3):  # another process may take the free port between probe and bind
            self.port = free_port()
            settings = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(self.port),
                "unix_socket_directories": f"'{self.socket_dir}'",
                "max_connections": "30",
                "shared_buffers": "32MB",
                "fsync": "off",  # a throw-away cluster: durability is not needed, speed is
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "password_encryption": "'scram-sha-256'",
            }
            conf = self.data_dir / "postgresql.conf"
            with conf.open("a", encoding="utf-8") as fh:  # appending keeps the file's owner
                fh.writelines(f"{k} = {v}\n" for k, v in settings.items())
            done = self._server_cmd(
                [
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "start",
                ]
            )
            if done.returncode == 0:
                self._running = True
                return
            last = self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""
            if "already in use" not in last:
                break
        msg = f"pg_ctl start failed; server log:\n{last[-2000:]}"
        raise PgStartError(msg)

    def _create_role_and_database(self) -> None:
        pw = self.password.replace("'", "''")
        self._psql(
            [
                "-c",
                f"CREATE ROLE {_quote_ident(self.user)} LOGIN PASSWORD '{pw}'",
                "-c",
                f"CREATE DATABASE {_quote_ident(self.database)} OWNER {_quote_ident(self.user)}",
            ],
            superuser=True,
            database="postgres",
            quiet=True,
        )

    def _kill_postmaster(self) -> None:
        """Last resort when pg_ctl cannot stop the server: end our own postmaster, by its pid."""
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])
            os.kill(pid, 9)


@contextlib.contextmanager
def pg_server(*, database: str = "epj", user: str = "jk", install: bool = True) -> Iterator[PgServer]:
    """Start a throw-away PostgreSQL server; stop it and remove its files on exit.

    Raises:
        PgUnavailable: PostgreSQL is not installed and cannot be installed here.
        PgStartError: it is installed, but the cluster could not be started.
    """
    server = PgServer(database=database, user=user, install=install)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pg_server_fixture(
    *,
    scope: Any = "session",
    name: str | None = None,
    load: Path | None = None,
) -> Callable[..., Any]:
    """Return a pytest fixture that yields a started ``PgServer`` (optionally loaded from a CSV folder).

    Usage, at module level of a test file or in conftest.py::

        pg = pg_server_fixture()                        # fixture "pg", one server per session
        omop_pg = pg_server_fixture(load=EUNOMIA_DIR)   # with the folder loaded

    The fixture skips (with the reason and the install command) when PostgreSQL is not installed
    and cannot be installed; with the environment variable ``JK_REQUIRE_PG=1`` it fails instead.
    """

    import pytest

    def _fixture() -> Iterator[PgServer]:
        server = PgServer()
        try:
            server.start()
        except PgUnavailable as exc:
            if os.environ.get("JK_REQUIRE_PG", "") not in ("", "0"):
                raise
            pytest.skip(f"PostgreSQL test server unavailable: {exc}")
        try:
            if load is not None:
                server.load_csv_folder(load)
            yield server
        finally:
            server.stop()

    return pytest.fixture(scope=scope, name=name)(_fixture)
