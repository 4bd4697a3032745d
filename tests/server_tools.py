"""What the PostgreSQL and MariaDB test servers share: installing with apt, ports, folder rights."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def privilege_prefix() -> list[str] | None:
    """Return how to run a command as root: [] when root, ["sudo", "-n"] with passwordless sudo, else None."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [sudo, "-n"]
    return None


@contextlib.contextmanager
def _apt_turn() -> Iterator[None]:
    """Hold a machine-wide lock while apt runs (pytest-xdist workers may install at the same time)."""
    lock = Path(tempfile.gettempdir()) / "journalkonvert-tests-apt.lock"
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def apt_install(package: str, what: str, unavailable: type[Exception]) -> None:
    """Install a Debian package with apt-get, refreshing the package lists if the first try fails.

    Raises:
        unavailable: when apt-get is missing, there are no rights to use it, or it fails.
    """
    command = f"apt-get install -y {package}"
    prefix = privilege_prefix()
    apt = shutil.which("apt-get")
    if apt is None or prefix is None:
        why = "apt-get is not available" if apt is None else "not root and no passwordless sudo"
        raise unavailable(f"{what} server programs not found, and cannot install them ({why}); run: sudo {command}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=900"]  # test workers running side by side take turns with apt
    install = [*prefix, apt, *wait, "install", "-y", "-q", package]
    with _apt_turn():
        done = subprocess.run(install, capture_output=True, text=True, env=env, check=False, timeout=900)
        if done.returncode != 0:  # a fresh machine may have no package lists yet
            update = [*prefix, apt, *wait, "update", "-q"]
            subprocess.run(update, capture_output=True, env=env, check=False, timeout=600)
            done = subprocess.run(install, capture_output=True, text=True, env=env, check=False, timeout=900)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise unavailable(f"`{command}` failed: {' / '.join(tail)}; install {what} and try again")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Return whether something accepts TCP connections at host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def world_traversable(folder: Path) -> bool:
    """Return whether every folder from / down to ``folder`` can be entered by any user."""
    return all(part.stat().st_mode & stat.S_IXOTH for part in [folder, *folder.parents])
