"""``--engine spark``: the rule queries and the SPEC §4 precedence on Apache Spark.

Everything engine-specific about Spark lives here (the DuckDB side is ``_engine.DuckDBRules``).
Ingest, decisions, the state hook and the aggregation stay in the run's DuckDB (one copy of
each mechanism); :class:`SparkRules` is handed the portable candidate queries, and

1. uploads the relations those queries read (found by parsing them with sqlglot) from DuckDB
   as Arrow, naive-UTC timestamps arriving as ``TIMESTAMP_NTZ``;
2. transpiles each query (and the precedence) from DuckDB's dialect to Spark SQL with sqlglot,
   runs their union and the precedence in Spark;
3. brings ``cand`` back (Arrow) into DuckDB with the column types DuckDB's own run gives it.

The session is pinned to UTC with ``spark.sql.timestampType=TIMESTAMP_NTZ`` whatever the JVM's,
the machine's or the cluster's time zone: no instant is ever read in a local zone.
pyspark is imported only here, only for ``--engine spark``.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from typing import Any, Callable

import duckdb

from .._i18n import msg
from ._engine import CAND_SCHEMA, precedence_sql
from ._settings import ConfigError

__all__ = ["SESSION_CONF", "LOCAL_CONF", "SparkRules", "open_spark", "relations", "to_spark_sql"]

#: Pinned on every session the audit uses (local or Connect): instants are naive UTC, never local.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
}
#: A small local Spark (``local[2]``): no UI, few shuffle partitions, modest driver memory.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "false",  # re-planning per stage costs more than it saves on two cores
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
LOCAL_MASTER = "local[2]"
_INSTALL = "pip install 'pia-policy[spark]'"


def to_spark_sql(sql: str) -> str:
    """Portable (DuckDB-dialect) SQL as Spark SQL, through sqlglot; an untranslatable construct raises."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)[0]


def relations(queries: list[str]) -> list[str]:
    """The tables the queries read (every table name that is not a CTE of its own query), sorted."""
    import sqlglot
    from sqlglot import exp

    names: set[str] = set()
    for sql in queries:
        tree = sqlglot.parse_one(sql, read="duckdb")
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        names |= {t.name for t in tree.find_all(exp.Table)} - ctes
    return sorted(names)


def _endpoint(remote: str) -> str:
    """``sc://host:port`` of a Connect URL, without its parameters (a token never reaches the summary)."""
    return remote.split("/;", 1)[0].split(";", 1)[0]


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


class SparkRules:
    """A Spark session that runs the audit's candidate queries (see the module docstring)."""

    name = "spark"

    def __init__(self, session: Any, info: dict[str, Any], owned: bool) -> None:
        self.session = session
        self.info = info
        self._owned = owned

    def candidates(self, con: duckdb.DuckDBPyConnection, queries: list[tuple[str, str]],
                   log: Callable[..., None]) -> None:
        started = time.perf_counter()
        spark = self.session
        needed = relations([sql for _, sql in queries])
        for name in needed:
            spark.createDataFrame(con.sql(f"SELECT * FROM {name}").to_arrow_table()).cache().createOrReplaceTempView(name)
        log("spark_uploaded", relations=needed, seconds=round(time.perf_counter() - started, 4))
        frames = [spark.sql(to_spark_sql(sql)) for _, sql in queries]
        cols = [c for c, _ in CAND_SCHEMA]
        if frames:
            functools.reduce(lambda a, b: a.unionAll(b), frames).createOrReplaceTempView("cand_all")
            found = spark.sql(to_spark_sql(precedence_sql("cand_all"))).toArrow()
            con.register("_pia_spark_cand", found)
            source = "_pia_spark_cand"
        else:
            source = f"(SELECT {', '.join(f'NULL AS {c}' for c in cols)} WHERE false)"
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE cand AS SELECT "
                        f"{', '.join(f'CAST({c} AS {t}) AS {c}' for c, t in CAND_SCHEMA)} FROM {source}")
        finally:
            if frames:
                con.unregister("_pia_spark_cand")
        for name in [*needed, "cand_all"]:
            spark.catalog.dropTempView(name)
        log("spark_rules_done", rules=len(queries), seconds=round(time.perf_counter() - started, 4))

    def close(self) -> None:
        """Stop the session when this run started Spark (a session the caller made stays up)."""
        if self._owned:
            self.session.stop()


def open_spark(remote: str | None = None) -> SparkRules:
    """A Spark session for one audit: ``local[2]`` (started here unless one is running) or Spark
    Connect at ``remote`` (``sc://host:port``). ConfigError (exit 2) naming the fix when pyspark,
    its Connect client or Java is missing."""
    try:
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(msg(f"--engine spark: pyspark がありません（{_INSTALL} で導入してください）",
                              f"--engine spark: pyspark is not installed ({_INSTALL})")) from None
    info: dict[str, Any] = {"name": "spark", "version": pyspark.__version__}
    if remote is not None:
        try:
            session = SparkSession.builder.remote(remote).create()
        except ImportError as exc:
            raise ConfigError(msg(f"--spark-remote: Spark Connect のクライアントがありません（{exc}; {_INSTALL}）",
                                  f"--spark-remote: the Spark Connect client is missing ({exc}; {_INSTALL})")) from None
        info["remote"] = _endpoint(remote)
        owned = True
    else:
        if _java() is None:
            raise ConfigError(msg("--engine spark: Java がありません（JDK 17 以上を導入するか JAVA_HOME を設定してください。"
                                  "Debian: apt-get install openjdk-17-jre-headless）",
                                  "--engine spark: Java is not installed (install a JDK 17 or later or set JAVA_HOME; "
                                  "Debian: apt-get install openjdk-17-jre-headless)"))
        from pyspark import SparkContext

        owned = SparkContext._active_spark_context is None
        builder = SparkSession.builder.master(LOCAL_MASTER).appName("pia-policy audit")
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
        try:
            base = builder.getOrCreate()
        except Exception as exc:  # noqa: BLE001 - the JVM did not start: a setup problem, exit 2
            raise ConfigError(msg(f"--engine spark: Spark を起動できません（{exc}）",
                                  f"--engine spark: cannot start Spark ({exc})")) from None
        session = base.newSession()  # own temp views and SQL settings, the caller's session untouched
        info["master"] = base.sparkContext.master
        info["jvm_time_zone"] = base.sparkContext._jvm.java.util.TimeZone.getDefault().getID()
    for key, value in SESSION_CONF.items():
        session.conf.set(key, value)
    info["session_time_zone"] = session.conf.get("spark.sql.session.timeZone")
    info["timestamp_type"] = session.conf.get("spark.sql.timestampType")
    return SparkRules(session, info, owned)

