"""Canonical JSON, HMAC-SHA256 signature of summary.json, and the signing key."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import os
from collections.abc import Mapping
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from .._i18n import msg

__all__ = ["KEY_ENV", "SIGNATURE_ALG", "canonical_json", "sign", "signature_of", "load_key", "jsonable", "SigningKeyError"]

KEY_ENV = "PIA_POLICY_SIGNING_KEY"
SIGNATURE_ALG = "HMAC-SHA256"


class SigningKeyError(ValueError):
    """The signing key could not be read (bad argument: exit 2)."""


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN/inf to null, dict keys to str, paths to POSIX strings, dates to ISO, sets sorted."""
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN/inf are not JSON: recorded as null rather than failing the run
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=lambda v: (str(type(v)), str(v)))
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"))
    return str(value)


def canonical_json(summary: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: the summary without ``signature``, sorted keys, no spaces."""
    body = {k: v for k, v in summary.items() if k != "signature"}
    return json_dumps_canonical(body)


def json_dumps_canonical(value: Any) -> bytes:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def signature_of(summary: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 hex over :func:`canonical_json`."""
    return hmac.new(key, canonical_json(summary), hashlib.sha256).hexdigest()


def sign(summary: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``summary`` with ``signature: {alg, value}`` set (the dict is changed in place and returned)."""
    summary.pop("signature", None)
    summary["signature"] = {"alg": SIGNATURE_ALG, "value": signature_of(summary, key)}
    return summary


def load_key(key_file: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The signing key: the bytes of ``key_file`` (trailing CR/LF stripped), else ``$PIA_POLICY_SIGNING_KEY``
    (UTF-8), else None. Raises :class:`SigningKeyError` for an unreadable or empty key."""
    env = os.environ if environ is None else environ
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise SigningKeyError(msg(f"署名鍵ファイル {key_file} を読めません（{exc.strerror or exc}）",
                                      f"cannot read the signing key file {key_file} ({exc.strerror or exc})")) from exc
        if not key:
            raise SigningKeyError(msg(f"署名鍵ファイル {key_file} が空です", f"the signing key file {key_file} is empty"))
        return key
    value = env.get(KEY_ENV)
    if value is None or value == "":
        return None
    return value.encode("utf-8")
