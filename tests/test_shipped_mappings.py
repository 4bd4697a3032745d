"""Rules every shipped mapping keeps, checked statically (no conversion needed)."""

from __future__ import annotations

import pytest

from converters.mapping import load_mapping
from mappings import mapping_path, shipped_mappings

RENDITION_FIELDS = ("pdfa_path", "pdfa_sha256")


@pytest.mark.parametrize("name", shipped_mappings())
def test_a_document_with_an_original_also_carries_its_rendition(name: str) -> None:
    """A reader stores a PDF/A rendition beside each original it keeps; a document row that names the original
    but not the rendition leaves the rendition an orphan in documents/ (validate: error). So: both or neither."""
    mapping = load_mapping(mapping_path(name))
    for table in mapping.tables:
        for target in table.targets:
            if target.table != "document":
                continue
            mapped = {f.target for f in target.fields}
            if "original_path" in mapped:
                missing = [f for f in RENDITION_FIELDS if f not in mapped]
                assert not missing, f"{name}: {target.path} maps original_path but not {missing}"
