"""Import survey exports into the canonical tables.

>>> from excx.ingest import import_file, TARGETS
>>> sorted(TARGETS)
['customer-responses', 'employee-responses', 'outcomes', 'units']

See :func:`import_file` for what is read, checked and written, and
:mod:`excx.ingest.profiles` for the profiles and the TOML mapping format.
"""

from __future__ import annotations

from excx.ingest.load import ImportReport, Progress, import_file
from excx.ingest.profiles import PROFILES, Mapping, load_mapping
from excx.ingest.targets import TARGETS

__all__ = [
    "ImportReport",
    "Mapping",
    "PROFILES",
    "Progress",
    "TARGETS",
    "import_file",
    "load_mapping",
]
