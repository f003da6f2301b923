"""Policy lines in a database through ``sqlalchemy-adapter`` (SQLite, PostgreSQL, ...)."""

from __future__ import annotations

import threading
from typing import Any, Iterable

from casbin.model import Model
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy_adapter import Adapter

from ._source import PolicyLine

__all__ = ["rule_class", "adapter", "load_lines", "save_lines"]

#: Our policy lines have up to 10 fields; the adapter's default table has 6 (v0..v5).
_FIELDS = 12
_CLASSES: dict[str, type] = {}
_ENGINES: dict[str, Engine] = {}
#: Guards the two lazy caches above (concurrent first calls must build one class and one engine).
_LOCK = threading.RLock()


class _Base(DeclarativeBase):
    pass


def rule_class(table_name: str) -> type:
    """A CasbinRule-compatible ORM class with columns v0..v11."""
    with _LOCK:
        return _CLASSES.get(table_name) or _new_rule_class(table_name)


def _new_rule_class(table_name: str) -> type:
    attrs: dict[str, Any] = {
        "__tablename__": table_name,
        "__table_args__": {"extend_existing": True},
        "id": Column(Integer, primary_key=True),
        "ptype": Column(String(255)),
    }
    for i in range(_FIELDS):
        attrs[f"v{i}"] = Column(String(255))

    def __str__(self: Any) -> str:
        values = [getattr(self, f"v{i}") for i in range(_FIELDS)]
        return ", ".join([self.ptype] + [v for v in values if v is not None])

    attrs["__str__"] = __str__
    cls = type("PiaPolicyRule_" + "".join(c if c.isalnum() else "_" for c in table_name), (_Base,), attrs)
    _CLASSES[table_name] = cls
    return cls


def _engine(url: Any) -> Engine:
    if isinstance(url, Engine):
        return url
    key = str(url)
    with _LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = create_engine(key)
        return _ENGINES[key]


def adapter(url: Any, table_name: str = "pia_policy_rule") -> Adapter:
    """A ``sqlalchemy_adapter.Adapter`` on ``url`` (URL string or Engine), creating the table."""
    return Adapter(_engine(url), db_class=rule_class(table_name))


def _model(model_text: str) -> Model:
    m = Model()
    m.load_model_from_text(model_text)
    return m


def load_lines(url: Any, model_text: str, *, table_name: str = "pia_policy_rule") -> list[PolicyLine]:
    """Policy lines stored in the database, in storage order."""
    m = _model(model_text)
    adapter(url, table_name).load_policy(m)
    out: list[PolicyLine] = []
    where = f"db:{table_name}"
    n = 0
    for sec in ("p", "g"):
        if sec not in m.keys():
            continue
        for ptype, ast in m[sec].items():
            for rule in ast.policy:
                n += 1
                out.append(PolicyLine(ptype, tuple(rule), where, n))
    return out


def save_lines(url: Any, model_text: str, lines: Iterable[PolicyLine], *, table_name: str = "pia_policy_rule") -> int:
    """Replace the stored policy with ``lines`` (one transaction); returns the count."""
    m = _model(model_text)
    count = 0
    for pl in lines:
        sec = "g" if pl.ptype.startswith("g") else "p"
        m.add_policy(sec, pl.ptype, list(pl.values))
        count += 1
    adapter(url, table_name).save_policy(m)
    return count
