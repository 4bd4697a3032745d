"""Declarative mapping files (data). ``mapping_path(name)`` locates a shipped one."""

from __future__ import annotations

from pathlib import Path

MAPPINGS_DIR = Path(__file__).resolve().parent


def mapping_path(name: str) -> Path:
    """Return the path of the shipped mapping file ``<name>.yaml``."""
    return MAPPINGS_DIR / f"{name}.yaml"


def shipped_mappings() -> list[str]:
    """Return the names of the shipped mapping files."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
