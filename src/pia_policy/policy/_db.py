"""Policy lines in a database through ``sqlalchemy-adapter`` (SQLite, PostgreSQL, ...).

Beside the rule table (``ptype, v0..v11``, the adapter's layout) a ``<table>_metadata`` table
holds the metadata.toml text the lines were saved with (versions and citations travel with the
lines). On PostgreSQL a statement trigger on the rule table sends ``NOTIFY pia_policy_changed``
(payload: the table name) after any change, whoever makes it; ``_watch.py`` listens.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Iterable

from casbin.model import Model
from sqlalchemy import Column, Integer, String, create_engine, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy_adapter import Adapter

from ._errors import PolicyError
from ._source import PolicyLine

__all__ = ["rule_class", "adapter", "load_lines", "save_lines", "load_metadata_text", "sqlite_path",
           "NOTIFY_CHANNEL", "where"]

#: The PostgreSQL channel a change of any policy table is announced on (payload: the table name).
NOTIFY_CHANNEL = "pia_policy_changed"

#: Our policy lines have up to 10 fields; the adapter's default table has 6 (v0..v5).
_FIELDS = 12
_CLASSES: dict[str, type] = {}
_ENGINES: dict[str, tuple[Engine, Any]] = {}
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


def sqlite_path(url: Any) -> str | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    u = make_url(str(url.url if isinstance(url, Engine) else url))
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return u.database


def _identity(path: str | None) -> Any:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _engine(url: Any) -> Engine:
    """One engine per URL; for a SQLite file, a new one when the file was replaced (new inode)."""
    if isinstance(url, Engine):
        return url
    key = str(url)
    ident = _identity(sqlite_path(key))
    with _LOCK:
        cached = _ENGINES.get(key)
        if cached is not None and cached[1] == ident:
            return cached[0]
        if cached is not None:
            cached[0].dispose()  # the old file is gone: its pooled connections would keep reading it
        engine = create_engine(key)
        _ENGINES[key] = (engine, ident)
        return engine


def where(table_name: str) -> str:
    """How problems name the rule table (the ``file`` of a PolicyError)."""
    return f"db:{table_name}"


def adapter(url: Any, table_name: str = "pia_policy_rule") -> Adapter:
    """A ``sqlalchemy_adapter.Adapter`` on ``url`` (URL string or Engine), creating the table."""
    return Adapter(_engine(url), db_class=rule_class(table_name))


def _model(model_text: str) -> Model:
    m = Model()
    m.load_model_from_text(model_text)
    return m


def load_lines(url: Any, model_text: str, *, table_name: str = "pia_policy_rule",
               arity: dict[str, int] | None = None) -> list[PolicyLine]:
    """Policy lines stored in the database, in storage order; each line's ``line`` is its row id.

    With ``arity`` (fields per policy type) a row of an unknown type, the wrong width or an
    empty field is a ``PolicyError`` naming the table and the row id, as a CSV line would be.
    """
    engine = _engine(url)
    if not inspect(engine).has_table(table_name):
        return []
    cls = rule_class(table_name)
    out: list[PolicyLine] = []
    with Session(engine) as session:
        for row in session.scalars(select(cls).order_by(cls.id)):
            values = [getattr(row, f"v{i}") for i in range(_FIELDS)]
            while values and values[-1] is None:
                values.pop()
            ptype = str(row.ptype or "")
            vals = tuple("" if v is None else str(v).strip() for v in values)
            if arity is not None:
                if ptype not in arity:
                    raise PolicyError(f"unknown policy type {ptype!r} (model defines: {', '.join(sorted(arity))})",
                                      file=where(table_name), line=row.id)
                if len(vals) != arity[ptype] or any(v == "" for v in vals):
                    raise PolicyError(f"{ptype} row has {len(vals)} fields (empty: {sum(v == '' for v in vals)}), "
                                      f"the model defines {arity[ptype]}", file=where(table_name), line=row.id)
            out.append(PolicyLine(ptype, vals, where(table_name), row.id))
    return out


def _meta_table(table_name: str) -> str:
    return f"{table_name}_metadata"


def load_metadata_text(url: Any, table_name: str = "pia_policy_rule") -> str | None:
    """The metadata.toml text saved with the lines, or None when none was saved."""
    engine = _engine(url)
    name = _meta_table(table_name)
    if not inspect(engine).has_table(name):
        return None
    with engine.connect() as con:
        row = con.execute(text(f'SELECT body FROM "{name}" WHERE name = :n'), {"n": "metadata.toml"}).first()
    return None if row is None else str(row[0])


def _ensure_notify_trigger(engine: Engine, table_name: str) -> None:
    """PostgreSQL: announce every change of the rule table on NOTIFY_CHANNEL (idempotent)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as con:
        con.execute(text(
            "CREATE OR REPLACE FUNCTION pia_policy_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"))
        con.execute(text(
            f'CREATE OR REPLACE TRIGGER "{table_name}_notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
            f'ON "{table_name}" FOR EACH STATEMENT EXECUTE FUNCTION pia_policy_notify()'))


def save_lines(url: Any, model_text: str, lines: Iterable[PolicyLine], *, table_name: str = "pia_policy_rule",
               metadata_text: str | None = None) -> int:
    """Replace the stored policy with ``lines`` (one transaction) and, when given, its metadata; returns the count."""
    m = _model(model_text)
    count = 0
    for pl in lines:
        sec = "g" if pl.ptype.startswith("g") else "p"
        m.add_policy(sec, pl.ptype, list(pl.values))
        count += 1
    engine = _engine(url)
    if metadata_text is not None:
        name = _meta_table(table_name)
        with engine.begin() as con:
            con.execute(text(f'CREATE TABLE IF NOT EXISTS "{name}" (name VARCHAR(64) PRIMARY KEY, body TEXT NOT NULL)'))
            con.execute(text(f'DELETE FROM "{name}" WHERE name = :n'), {"n": "metadata.toml"})
            con.execute(text(f'INSERT INTO "{name}" (name, body) VALUES (:n, :b)'),
                        {"n": "metadata.toml", "b": metadata_text})
    adapter(url, table_name).save_policy(m)
    _ensure_notify_trigger(engine, table_name)
    return count
