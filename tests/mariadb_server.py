"""A real, throw-away MariaDB (or MySQL) server for tests, on loopback only.

``mariadb_server()`` is a context manager: it finds the server programs (``mariadbd``/``mysqld`` on
PATH or in ``/usr/sbin``, ``mariadb-install-db``/``mysql_install_db``, and the ``mariadb``/``mysql``
client), installs Debian's ``mariadb-server`` package with ``apt-get`` when they are missing and that
is allowed (as root, or with passwordless ``sudo``), creates a data directory in a fresh temporary
folder, starts the server with ``--no-defaults`` on 127.0.0.1 at a free port with its Unix socket
inside that folder, and creates the database ``openmrs`` and the login user ``jk`` (TCP, from
127.0.0.1 only) with a random password. On exit the server is shut down and the folder removed.

Under root (CI) the server runs as the ``mysql`` system user that Debian's package creates
(``--user=mysql``; ``nobody`` where there is none): the temporary folder belongs to that user. Clients
run as the caller.

Authentication: over TCP only ``jk`` can log in, with its password. The database superuser
``root@localhost`` has no password but is reachable only through the Unix socket in the private
folder (``--skip-name-resolve``, so a TCP client from 127.0.0.1 is never ``localhost``); the
passwordless ``root@127.0.0.1``/``root@::1``/``root@<host>`` accounts that ``mariadb-install-db``
creates are dropped by an ``--init-file`` before the server accepts its first connection.

``mariadb_server_fixture()`` turns it into a pytest fixture that skips, with the reason and the
install command, when MariaDB is not installed and cannot be installed. Set ``JK_REQUIRE_DB=1`` to
make that a failure instead (for CI, so that the database tests never disappear silently).

``load_openmrs(server, data_dir)`` loads the OpenMRS test data of ``../shared/data/openmrs-core-testdata``
(read in place): the schema dump ``initial_test_db.sql``, then the DBUnit data set
``standardTestDataset.xml`` with DBUnit's REFRESH semantics, as OpenMRS's own test suite does.

Example:
    >>> with mariadb_server() as db:  # doctest: +SKIP
    ...     counts = load_openmrs(db, Path("../shared/data/openmrs-core-testdata"))
    ...     db.sql("select count(*) from patient")
    '6'
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server_tools import apt_install, free_port, port_is_open, world_traversable

INSTALL_COMMAND = "apt-get install -y mariadb-server"
SERVER_NAMES = ("mariadbd", "mysqld")
INSTALL_DB_NAMES = ("mariadb-install-db", "mysql_install_db")
CLIENT_NAMES = ("mariadb", "mysql")
SEARCH_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin")
SYSTEM_USER = "mysql"
START_TIMEOUT = 60
REQUIRE_ENV = "JK_REQUIRE_DB"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes


class MariaDbUnavailable(RuntimeError):
    """MariaDB's (or MySQL's) server programs are not installed here and cannot be installed."""


class MariaDbStartError(RuntimeError):
    """The server programs exist, but the data directory could not be created or the server started."""


class ClientError(subprocess.CalledProcessError):
    """The mariadb/mysql client failed; the message includes what it wrote to stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}: {(self.stderr or '').strip()}"


# --- finding and installing the programs --------------------------------------------------------------


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    for folder in SEARCH_DIRS:
        for name in names:
            path = Path(folder) / name
            if os.access(path, os.X_OK):
                return str(path)
    return None


@dataclass(frozen=True)
class Programs:
    """The server, initialiser and client programs of one installation."""

    server: str
    install_db: str | None  # None: MySQL 5.7+/8, initialised with ``mysqld --initialize-insecure``
    client: str
    mariadb: bool


def find_programs() -> Programs | None:
    """Return the programs of the installed MariaDB (preferred) or MySQL server, or None."""
    server = _find(SERVER_NAMES)
    client = _find(CLIENT_NAMES)
    if server is None or client is None:
        return None
    version = subprocess.run([server, "--version"], capture_output=True, text=True, check=False, timeout=30)
    mariadb = "mariadb" in (version.stdout + version.stderr).lower()
    install_db = _find(INSTALL_DB_NAMES)
    if mariadb and install_db is None:
        return None
    return Programs(server, install_db if mariadb else None, client, mariadb)


def install_mariadb() -> None:
    """Install Debian's ``mariadb-server`` package with apt-get (refreshing the package lists if needed).

    Raises:
        MariaDbUnavailable: when apt-get is missing, there are no rights to use it, or it fails.
    """
    apt_install("mariadb-server", "MariaDB", MariaDbUnavailable)


# --- small helpers ------------------------------------------------------------------------------------


def quote_ident(name: str) -> str:
    """Quote a MySQL identifier with backticks."""
    return "`" + name.replace("`", "``") + "`"


def quote_text(text: str) -> str:
    """Quote a MySQL string literal (backslash escapes are on, the server default)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0").replace("\n", "\\n")
    return "'" + escaped.replace("\r", "\\r").replace("\x1a", "\\Z") + "'"


# --- the server ---------------------------------------------------------------------------------------


class MariaDbServer:
    """One MariaDB server in a temporary folder; ``start()`` then ``stop()`` (or use ``mariadb_server()``)."""

    def __init__(self, *, database: str = "openmrs", user: str = "jk", install: bool = True) -> None:
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(18)
        self.host = "127.0.0.1"
        self.port = 0
        self.install = install
        self.programs: Programs | None = None
        self.base_dir: Path | None = None
        self.startup_seconds = 0.0
        self.loaded: dict[str, int] = {}  # rows per table, set by the fixture's OpenMRS load
        self.load_seconds = 0.0
        self._run_as: str | None = None  # system user the server runs as when we are root
        self._process: subprocess.Popen[bytes] | None = None

    # --- public ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database, with the password (``mysql+pymysql://jk:...``)."""
        return self.url_for("pymysql")

    def url_for(self, driver: str = "pymysql", *, password: str | None = None, database: str | None = None) -> str:
        """Return the SQLAlchemy URL for ``driver``, optionally with another password or database."""
        pw = self.password if password is None else password
        return f"mysql+{driver}://{self.user}:{pw}@{self.host}:{self.port}/{database or self.database}"

    @property
    def data_dir(self) -> Path:
        """The server's data directory."""
        assert self.base_dir is not None, "the server is not started"
        return self.base_dir / "data"

    @property
    def socket_path(self) -> Path:
        """The server's Unix socket (root logs in through it)."""
        assert self.base_dir is not None, "the server is not started"
        return self.base_dir / "mysqld.sock"

    @property
    def log_file(self) -> Path:
        """The server's error log."""
        assert self.base_dir is not None, "the server is not started"
        return self.base_dir / "server.log"

    @property
    def running(self) -> bool:
        """Whether the server process started here is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> MariaDbServer:
        """Create the data directory, start the server, and create the database and user.

        Raises:
            MariaDbUnavailable: MariaDB is not installed and cannot be installed here.
            MariaDbStartError: the data directory could not be created or the server started.
        """
        started = time.monotonic()
        self.programs = find_programs()
        if self.programs is None:
            if not self.install:
                msg = f"MariaDB server programs not found; run: sudo {INSTALL_COMMAND}"
                raise MariaDbUnavailable(msg)
            install_mariadb()
            self.programs = find_programs()
            if self.programs is None:
                msg = f"`{INSTALL_COMMAND}` ran, yet mariadbd/mariadb-install-db/mariadb are still not found"
                raise MariaDbUnavailable(msg)
        atexit.register(self.stop)
        try:
            self._make_folder()
            self._install_db()
            self._start_server()
            self._create_user_and_database()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Shut the server down and remove its folder. Safe to call twice.

        The server is our own child process: SIGTERM (its normal shutdown) to that pid, SIGKILL if it
        has not ended after 30 s.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        if self.base_dir is not None and self.base_dir.exists():
            shutil.rmtree(self.base_dir, ignore_errors=True)
        atexit.unregister(self.stop)

    def sql(self, statement: str, *, database: str | None = None) -> str:
        """Run SQL as root through the Unix socket and return the output (tab-separated, no header, trimmed).

        In the test database, another ``database``, or none with ``database=""``. The statement goes
        to the client on stdin, never on its command line. Raises ``ClientError`` (a
        ``CalledProcessError`` with the client's message) on an error.
        """
        return self._client(input_text=statement, database=database).stdout.strip()

    def load_sql_file(self, path: Path, *, database: str | None = None) -> None:
        """Feed a SQL file (a mysqldump, say) to the client as root, into ``database`` (default: the test one)."""
        with Path(path).open("rb") as data:
            self._client(stdin=data, database=database)

    def connect(self, *, database: str | None = None, **options: Any) -> Any:
        """Return a ``pymysql`` connection as root through the Unix socket (to the test database)."""
        import pymysql

        return pymysql.connect(
            unix_socket=str(self.socket_path),
            user="root",
            database=database or self.database,
            charset="utf8mb4",
            **options,
        )

    def create_database(self, name: str) -> None:
        """Create another database that the test user may use (``url_for(database=name)``)."""
        db, user = quote_ident(name), quote_text(self.user)
        self.sql(
            f"CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n"
            f"GRANT ALL PRIVILEGES ON {db}.* TO {user}@'127.0.0.1';\n",
            database="",
        )

    def table_counts(self, *, database: str | None = None) -> dict[str, int]:
        """Return ``count(*)`` of every base table of the database, exactly."""
        db = database or self.database
        names = self.sql(
            "select table_name from information_schema.tables "
            f"where table_schema = {quote_text(db)} and table_type = 'BASE TABLE' order by table_name"
        ).splitlines()
        if not names:
            return {}
        union = " union all ".join(
            f"select {quote_text(n)}, count(*) from {quote_ident(db)}.{quote_ident(n)}" for n in names
        )
        out = {}
        for line in self.sql(union).splitlines():
            name, count = line.split("\t")
            out[name] = int(count)
        return out

    # --- internals ---------------------------------------------------------------------------

    def _client_env(self) -> dict[str, str]:
        # no inherited MYSQL_* settings (MYSQL_PWD, MYSQL_HOST, ...): the test decides everything
        return {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL", "MARIADB"))}

    def _client(
        self,
        *,
        input_text: str | None = None,
        stdin: Any = None,
        database: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        assert self.programs is not None
        cmd = [
            self.programs.client,
            "--no-defaults",
            f"--socket={self.socket_path}",
            "--user=root",
            "--batch",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
        ]
        if database != "":
            cmd.append(f"--database={database or self.database}")
        done = subprocess.run(
            cmd,
            input=input_text,
            stdin=stdin if input_text is None else None,
            capture_output=True,
            text=True,
            env=self._client_env(),
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise ClientError(done.returncode, cmd[:1], done.stdout, done.stderr)
        return done

    def _make_folder(self) -> None:
        parent = Path(tempfile.gettempdir())
        if len(str(parent)) > MAX_SOCKET_PATH - 40:
            parent = Path("/tmp")  # the socket path must stay short
        if os.geteuid() != 0:
            self.base_dir = Path(tempfile.mkdtemp(prefix="jk-my-", dir=parent))
            return
        # root: the server runs as an unprivileged user, who must be able to reach and own the folder
        try:
            owner = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            owner = pwd.getpwnam("nobody")
        self._run_as = owner.pw_name
        if not world_traversable(parent):
            parent = Path("/tmp")  # a private 0700 folder is created inside
        self.base_dir = Path(tempfile.mkdtemp(prefix="jk-my-", dir=parent))
        os.chown(self.base_dir, owner.pw_uid, owner.pw_gid)

    def _user_option(self) -> list[str]:
        return [f"--user={self._run_as}"] if self._run_as else []

    def _install_db(self) -> None:
        assert self.programs is not None and self.base_dir is not None
        if self.programs.install_db is not None:
            cmd = [
                self.programs.install_db,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                *self._user_option(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                "--innodb-log-file-size=16M",
            ]
        else:  # MySQL: root@localhost without password; no TCP root accounts are created
            cmd = [
                self.programs.server,
                "--no-defaults",
                "--initialize-insecure",
                f"--datadir={self.data_dir}",
                *self._user_option(),
            ]
        done = subprocess.run(
            cmd, cwd=self.base_dir, capture_output=True, text=True, env=self._client_env(), check=False, timeout=300
        )
        if done.returncode != 0:
            msg = f"{Path(cmd[0]).name} failed: {(done.stderr or done.stdout).strip()[-2000:]}"
            raise MariaDbStartError(msg)

    def _write_init_file(self) -> Path:
        """Write the SQL the server runs before it accepts connections: drop root's TCP accounts."""
        assert self.base_dir is not None
        hosts = ["127.0.0.1", "::1", "%", socket.gethostname(), socket.gethostname().split(".")[0]]
        lines = [f"DROP USER IF EXISTS 'root'@{quote_text(h)};" for h in dict.fromkeys(hosts) if h]
        lines.append("DROP USER IF EXISTS ''@'localhost';")  # anonymous users of old installers
        lines.extend(f"DROP USER IF EXISTS ''@{quote_text(h)};" for h in dict.fromkeys(hosts) if h)
        path = self.base_dir / "init.sql"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if self._run_as is not None:
            owner = pwd.getpwnam(self._run_as)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        return path

    def _start_server(self) -> None:
        assert self.programs is not None and self.base_dir is not None
        init_file = self._write_init_file()
        last = ""
        for _attempt in range(3):  # another process may take the free port between probe and bind
            self.port = free_port()
            cmd = [
                self.programs.server,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                f"--socket={self.socket_path}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--skip-networking=0",
                "--skip-name-resolve",
                *self._user_option(),
                f"--pid-file={self.base_dir / 'mysqld.pid'}",
                f"--log-error={self.log_file}",
                f"--init-file={init_file}",
                "--skip-log-bin",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0",  # a throw-away server: speed, not durability
                "--innodb-buffer-pool-dump-at-shutdown=OFF",
                "--innodb-buffer-pool-load-at-startup=OFF",
                "--innodb-fast-shutdown=2",
                "--max-connections=30",
            ]
            if self.programs.mariadb:
                cmd.append("--innodb-log-file-size=16M")
            else:
                cmd.append("--mysqlx=OFF")
            self._process = subprocess.Popen(
                cmd,
                cwd=self.base_dir,
                env=self._client_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if self._wait_ready():
                return
            last = self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""
            self._end_failed_start()
            if not re.search(r"already in use|Bind on TCP/IP port", last):
                break
            self.log_file.unlink(missing_ok=True)
        msg = f"the server did not start; its log:\n{last[-3000:]}"
        raise MariaDbStartError(msg)

    def _wait_ready(self) -> bool:
        assert self.programs is not None and self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if self.socket_path.exists() and port_is_open(self.port):
                try:
                    if self.sql("select 1", database="") == "1":
                        return True
                except ClientError:
                    pass
            time.sleep(0.1)
        return False

    def _end_failed_start(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

    def _create_user_and_database(self) -> None:
        db, user, pw = quote_ident(self.database), quote_text(self.user), quote_text(self.password)
        self.sql(
            f"CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n"
            f"CREATE USER {user}@'127.0.0.1' IDENTIFIED BY {pw};\n"
            f"GRANT ALL PRIVILEGES ON {db}.* TO {user}@'127.0.0.1';\n",
            database="",
        )


@contextlib.contextmanager
def mariadb_server(*, database: str = "openmrs", user: str = "jk", install: bool = True) -> Iterator[MariaDbServer]:
    """Start a throw-away MariaDB server; stop it and remove its files on exit.

    Raises:
        MariaDbUnavailable: MariaDB is not installed and cannot be installed here.
        MariaDbStartError: it is installed, but the server could not be started.
    """
    server = MariaDbServer(database=database, user=user, install=install)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def db_required() -> bool:
    """Whether the environment demands the database tests (``JK_REQUIRE_DB=1``): fail, never skip."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def mariadb_server_fixture(
    *,
    scope: Any = "session",
    name: str | None = None,
    openmrs: Path | None = None,
) -> Callable[..., Any]:
    """Return a pytest fixture that yields a started ``MariaDbServer`` (optionally loaded with OpenMRS).

    Usage, at module level of a test file or in conftest.py::

        mariadb = mariadb_server_fixture()                              # fixture "mariadb"
        openmrs_db = mariadb_server_fixture(openmrs=OPENMRS_DIR)        # schema + test data loaded

    The loaded fixture's server has ``loaded`` (rows per table) and ``load_seconds`` set. The fixture
    skips (with the reason and the install command) when MariaDB is not installed and cannot be
    installed; with the environment variable ``JK_REQUIRE_DB=1`` it fails instead.
    """
    import pytest

    def _fixture() -> Iterator[MariaDbServer]:
        server = MariaDbServer()
        try:
            server.start()
        except MariaDbUnavailable as exc:
            if db_required():
                raise
            pytest.skip(f"MariaDB test server unavailable: {exc}")
        try:
            if openmrs is not None:
                started = time.monotonic()
                server.loaded = load_openmrs(server, openmrs)
                server.load_seconds = time.monotonic() - started
            yield server
        finally:
            server.stop()

    return pytest.fixture(scope=scope, name=name)(_fixture)


# --- OpenMRS: the schema dump and the DBUnit data set -------------------------------------------------

OPENMRS_SCHEMA = "initial_test_db.sql"
OPENMRS_DATASET = "standardTestDataset.xml"
DBUNIT_NULL = "[NULL]"  # OpenMRS's tests replace this marker by NULL (ReplacementDataSet)
TRUE_WORDS = {"true": 1, "false": 0}

# Tables of standardTestDataset.xml (OpenMRS master) that the 2.5.x schema dump does not have.
KNOWN_SCHEMA_GAPS = {
    "concept_reference_range": "added in OpenMRS 2.7; initial_test_db.sql is the 2.5.x schema",
}


@dataclass
class DbUnitLoad:
    """What ``load_dbunit_xml`` did."""

    rows: dict[str, int] = field(default_factory=dict)  # rows inserted or refreshed, per table
    skipped: dict[str, int] = field(default_factory=dict)  # rows of tables the schema does not have
    adjusted: list[str] = field(default_factory=list)  # "table: 'raw' -> 'loaded'" for lenient times
    gave_way: list[str] = field(default_factory=list)  # older rows deleted for a unique-key collision


@dataclass(frozen=True)
class _Column:
    data_type: str
    precision: int


def _columns(server: MariaDbServer, database: str) -> dict[str, dict[str, _Column]]:
    out: dict[str, dict[str, _Column]] = defaultdict(dict)
    text = server.sql(
        "select table_name, column_name, data_type, coalesce(datetime_precision, 0) "
        f"from information_schema.columns where table_schema = {quote_text(database)}"
    )
    for line in text.splitlines():
        table, column, data_type, precision = line.split("\t")
        out[table.lower()][column.lower()] = _Column(data_type.lower(), int(precision))
    return out


_TIMESTAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?)?")


def java_lenient_timestamp(raw: str) -> datetime.datetime | None:
    """Read a timestamp as Java's ``Timestamp.valueOf`` (which DBUnit uses) does: out-of-range time fields roll over.

    ``2012-04-03 31:41:25.3`` (in OpenMRS's data set) is 2012-04-04 07:41:25.3 to Java, where MariaDB
    refuses it. Returns None for text that is not a timestamp of this shape or has a month outside 1-12.
    """
    match = _TIMESTAMP.fullmatch(raw.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    if not 1 <= int(month) <= 12:
        return None
    micros = int((fraction or "0").ljust(9, "0")[:6])
    start = datetime.datetime(int(year), int(month), 1)  # a naive wall-clock value
    return start + datetime.timedelta(
        days=int(day) - 1,
        hours=int(hour or 0),
        minutes=int(minute or 0),
        seconds=int(second or 0),
        microseconds=micros,
    )


def _strict_timestamp(raw: str) -> bool:
    try:
        datetime.datetime.fromisoformat(raw.strip())
    except ValueError:
        return False
    return True


def dbunit_value(raw: str, column: _Column | None, adjusted: list[str] | None = None) -> str | int | None:
    """Return the value of one DBUnit attribute for MariaDB.

    ``[NULL]`` is NULL. Booleans written ``true``/``false`` become 1/0 in integer and bit columns.
    A DATE column takes the date part of a timestamp (``1965-09-30 12:34:56.7``); a DATETIME
    column without fractional seconds drops the fraction (``.0``), truncating as MariaDB does. A
    date or time that is not a valid calendar time is read leniently, as Java does
    (``java_lenient_timestamp``), and noted in ``adjusted``. Anything else is passed on as text
    for the server to convert.
    """
    if raw == DBUNIT_NULL:
        return None
    if column is None:
        return raw
    kind = column.data_type
    if kind in {"tinyint", "smallint", "int", "bigint", "bit", "boolean"} and raw.lower() in TRUE_WORDS:
        return TRUE_WORDS[raw.lower()]
    if kind in {"date", "datetime", "timestamp"}:
        value = raw
        if not _strict_timestamp(raw):
            lenient = java_lenient_timestamp(raw)
            if lenient is None:
                return raw  # the server decides (and refuses it in strict mode)
            value = lenient.isoformat(sep=" ")
            if adjusted is not None:
                adjusted.append(f"{raw!r} -> {value!r}")
        if kind == "date":
            return value[:10]
        if column.precision == 0 and "." in value:
            return value.split(".", 1)[0]
        return value
    return raw


def _unique_keys(server: MariaDbServer, database: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """Return the unique indexes (``PRIMARY`` among them) of every table: table -> index name -> columns."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    text = server.sql(
        "select table_name, index_name, column_name from information_schema.statistics "
        f"where table_schema = {quote_text(database)} and non_unique = 0 "
        "order by table_name, index_name, seq_in_index"
    )
    for line in text.splitlines():
        table, index, column = line.split("\t")
        out[table.lower()][index].append(column.lower())
    return {t: {i: tuple(c) for i, c in idx.items()} for t, idx in out.items()}


_DUPLICATE_KEY = re.compile(r"for key '(?:[^']*\.)?([^'.]+)'")


def _where(columns: tuple[str, ...]) -> str:
    return " AND ".join(f"{quote_ident(c)} <=> %s" for c in columns)


def _refresh_row(
    cur: Any,
    table: str,
    row: dict[str, str | int | None],
    keys: dict[str, tuple[str, ...]],
    gave_way: list[str],
) -> None:
    """Write one row with DBUnit's REFRESH; a dump row that holds one of its unique values gives way."""
    import pymysql

    pk = keys.get("PRIMARY", ())
    has_pk = bool(pk) and all(c in row for c in pk)
    for _attempt in range(10):
        try:
            exists = has_pk and cur.execute(
                f"SELECT 1 FROM {quote_ident(table)} WHERE {_where(pk)}", [row[c] for c in pk]
            )
            if exists:
                assignments = ", ".join(f"{quote_ident(c)} = %s" for c in row)
                cur.execute(
                    f"UPDATE {quote_ident(table)} SET {assignments} WHERE {_where(pk)}",
                    [*row.values(), *(row[c] for c in pk)],
                )
            else:
                cols = ", ".join(quote_ident(c) for c in row)
                marks = ", ".join(["%s"] * len(row))
                cur.execute(f"INSERT INTO {quote_ident(table)} ({cols}) VALUES ({marks})", list(row.values()))
        except pymysql.err.IntegrityError as exc:
            match = _DUPLICATE_KEY.search(str(exc))
            index = match.group(1) if match else ""
            columns = keys.get(index, ())
            if exc.args[0] != 1062 or index == "PRIMARY" or not columns or not all(c in row for c in columns):
                raise
            condition = _where(columns)
            values: list[Any] = [row[c] for c in columns]
            if has_pk:  # never the row itself
                condition += f" AND NOT ({_where(pk)})"
                values += [row[c] for c in pk]
            cur.execute(f"DELETE FROM {quote_ident(table)} WHERE {condition}", values)
            shown = ", ".join(f"{c}={row[c]!r}" for c in columns)
            gave_way.append(f"{table}: the schema dump's row with {shown} ({index}) gave way")
            continue
        return
    msg = f"{table}: could not write {row!r}"
    raise RuntimeError(msg)


def load_dbunit_xml(server: MariaDbServer, path: Path, *, database: str | None = None) -> DbUnitLoad:
    """Load a DBUnit flat XML data set (one element per row, attributes = columns) into the test database.

    DBUnit's REFRESH operation, which OpenMRS's ``executeDataSet`` uses: a row whose primary key
    exists is updated (only the columns the element names), any other row is inserted; columns an
    element leaves out keep their value or get their default. Where a row collides with another
    row on a unique key other than the primary key (the schema dump's metadata and OpenMRS's test
    metadata spell some names differently, e.g. concept_map_type ``SAME-AS``/``same-as`` under
    other ids), the older row gives way: it is deleted and noted in ``gave_way``. Foreign keys are
    not checked while loading (data sets are not ordered by dependency). Elements whose table the
    schema lacks are counted in ``skipped``; an attribute the table lacks is an error. Values are
    read by ``dbunit_value``. The XML is parsed without entity resolution and network access.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    root = etree.parse(str(path), parser).getroot()
    database = database or server.database
    schema = _columns(server, database)
    unique = _unique_keys(server, database)
    result = DbUnitLoad()
    rows: list[tuple[str, dict[str, str | int | None]]] = []
    for element in root:
        if not isinstance(element.tag, str):
            continue
        table = element.tag
        columns = schema.get(table.lower())
        if columns is None:
            result.skipped[table] = result.skipped.get(table, 0) + 1
            continue
        unknown = [n for n in element.attrib if n.lower() not in columns]
        if unknown:
            msg = f"{path.name}: table {table} has no column(s) {', '.join(unknown)}"
            raise ValueError(msg)
        notes: list[str] = []
        rows.append((table, {n.lower(): dbunit_value(v, columns[n.lower()], notes) for n, v in element.attrib.items()}))
        result.adjusted.extend(f"{table}: {note}" for note in notes)
        result.rows[table] = result.rows.get(table, 0) + 1
    conn = server.connect(database=database, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            for table, row in rows:
                _refresh_row(cur, table, row, unique.get(table.lower(), {}), result.gave_way)
            cur.execute("SET FOREIGN_KEY_CHECKS = 1")
        conn.commit()
    finally:
        conn.close()
    return result


def load_openmrs(server: MariaDbServer, data_dir: Path, *, database: str | None = None) -> dict[str, int]:
    """Load the OpenMRS schema dump and the standard DBUnit data set; return the rows of every table.

    ``initial_test_db.sql`` is a MariaDB 10.3 mysqldump (116 tables, metadata, no patients): it
    switches foreign-key checks off and sets its own ``sql_mode`` itself, so it loads unchanged.
    ``standardTestDataset.xml`` is then loaded with ``load_dbunit_xml`` (REFRESH, like OpenMRS's
    ``executeDataSet``). Rows of tables the 2.5.x schema lacks are skipped only where
    ``KNOWN_SCHEMA_GAPS`` explains it; any other missing table is an error.

    Returns:
        ``count(*)`` of every table after loading, by table name.
    """
    data_dir = Path(data_dir)
    server.load_sql_file(data_dir / OPENMRS_SCHEMA, database=database)
    done = load_dbunit_xml(server, data_dir / OPENMRS_DATASET, database=database)
    unexplained = sorted(set(done.skipped) - set(KNOWN_SCHEMA_GAPS))
    if unexplained:
        msg = f"{OPENMRS_DATASET} names tables the schema lacks: {', '.join(unexplained)}"
        raise ValueError(msg)
    return server.table_counts(database=database)
