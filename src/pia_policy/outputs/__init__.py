"""Outputs (SPEC §5): findings.jsonl, summary.json, rejected.jsonl, duplicates.jsonl, findings.csv.

Every string is masked (My Number), the set is written atomically (staging directory + renames),
summary.json lists the SHA-256 of every output and can be signed (HMAC-SHA256); :func:`verify`
checks a directory against it.
"""

from __future__ import annotations

from ._atomic import OutputDirError, check_out_dir, cleanup_leftovers, dir_mode_for, lock_out_dir
from ._files import DUPLICATE_COLUMNS, FINDING_COLUMNS, REJECTED_COLUMNS, safe_cell
from ._mask import check_digit, is_valid_my_number, mask_my_number, mask_processor, mask_value
from ._sign import KEY_ENV, SIGNATURE_ALG, SigningKeyError, canonical_json, load_key, sign, signature_of
from ._verify import signature_state, verify
from ._write import SCHEMA_VERSION, SPEC_FILES, write_outputs

__all__ = [
    "write_outputs",
    "verify",
    "mask_my_number",
    "mask_value",
    "mask_processor",
    "is_valid_my_number",
    "check_digit",
    "safe_cell",
    "canonical_json",
    "sign",
    "signature_of",
    "signature_state",
    "load_key",
    "SigningKeyError",
    "KEY_ENV",
    "SIGNATURE_ALG",
    "SCHEMA_VERSION",
    "SPEC_FILES",
    "FINDING_COLUMNS",
    "REJECTED_COLUMNS",
    "DUPLICATE_COLUMNS",
    "cleanup_leftovers",
    "check_out_dir",
    "lock_out_dir",
    "OutputDirError",
    "dir_mode_for",
]
