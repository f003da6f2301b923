"""Inputs: one audit data directory (SPEC §3) → DuckDB tables (docs/DESIGN.md "Inputs").

Python only streams bytes (decompress, transcode CP932, cut into line-aligned pieces);
DuckDB splits lines, parses JSON / CSV, validates every record with a reason, removes
duplicates and counts. See the README section "Inputs" for the formats, encodings and mapping files.
"""

from __future__ import annotations

from ._errors import InputError
from ._fields import EVENT_FIELDS, REJECT_REASONS
from ._ingest import DEFAULT_BATCH_BYTES, EVENT_COLUMNS, IngestResult, ingest
from ._mapping import Mapping, load_mappings
from ._time import parse_ts

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "EVENT_COLUMNS",
    "EVENT_FIELDS",
    "IngestResult",
    "InputError",
    "Mapping",
    "REJECT_REASONS",
    "ingest",
    "load_mappings",
    "parse_ts",
]
