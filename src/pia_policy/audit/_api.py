"""``audit()``: one nightly audit run — ingest, decide, judge, summarise, write."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path
from collections import Counter
from typing import Any, Callable, Iterator, Mapping

import duckdb
from pydantic import BaseModel, ConfigDict

from .. import __version__
from .._i18n import lang, msg
from ..models import JST_OFFSET, SEVERITIES, Finding
from ..policy._changes import version_changes
from ..rules import RULE_IDS
from ._settings import AuditSettings, ConfigError, resolve_settings
from ._engine import SCHEMA_VERSION, finding_rows, iso_jst, read_findings, run_engine
from ._log import run_logger, tty_progress

__all__ = ["AuditResult", "audit", "as_of_utc", "exit_code_for"]

def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_WORK_PREFIX = "pia-policy-duckdb-"


def _remove_stale_work_dirs() -> None:
    """Remove the temporary directories of earlier runs whose process is gone (killed runs).

    A run's directory is named ``pia-policy-duckdb-<pid>-…``; a run that was killed (SIGKILL,
    SIGTERM without a handler) cannot remove its own, which may hold gigabytes of spill.
    """
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{_WORK_PREFIX}*-*"))
    except OSError:
        return
    for entry in entries:
        pid_text = entry.name[len(_WORK_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or not entry.is_dir():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except (PermissionError, OSError):  # alive (another user's) or unknown: leave it
            continue


def _open_engine(memory_limit: str) -> tuple[duckdb.DuckDBPyConnection, Path, dict[str, Any]]:
    """A DuckDB database file in a fresh temporary directory (under TMPDIR), with a memory limit and spilling.

    Beyond ``memory_limit`` DuckDB writes blocks to ``<tmp>/spill``; the directory is removed by
    :func:`_close_engine`. Threads: every core this process may use.
    """
    _remove_stale_work_dirs()
    work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-"))
    threads = _cores()
    try:
        con = duckdb.connect(
            str(work / "audit.duckdb"),
            config={
                "memory_limit": memory_limit,
                "temp_directory": str(work / "spill"),
                "threads": threads,
            },
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    engine = {"name": "duckdb", "version": duckdb.__version__, "memory_limit": memory_limit,
              "threads": threads, "spill": "temp_directory"}
    return con, work, engine


def _close_engine(con: duckdb.DuckDBPyConnection, work: Path) -> None:
    """Close the engine and remove its directory; no checkpoint on the way out (the file is deleted,
    and writing it out cost ≈ 0.8 CPU-seconds per million events)."""
    try:
        try:
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
        except duckdb.Error:  # a connection that failed mid-statement still closes
            pass
        con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class AuditResult(BaseModel):
    """The findings, the summary (as written to summary.json) and the exit code of the run.

    ``findings`` holds the first ``findings_limit`` findings in output order (severity first;
    all of them when the run has fewer), so that a run with a million findings does not hold
    them all in memory; ``findings_total`` counts them all. :meth:`iter_findings` streams every
    finding from ``out/findings.jsonl``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    findings: list[Finding]
    findings_total: int
    summary: dict[str, Any]
    exit_code: int
    out: Path | None = None

    @property
    def findings_truncated(self) -> bool:
        """True when ``findings`` holds fewer than ``findings_total``."""
        return len(self.findings) < self.findings_total

    def iter_findings(self) -> Iterator[Finding]:
        """Every finding, read one line at a time from ``out/findings.jsonl`` (needs ``out``)."""
        if self.out is None:
            if self.findings_truncated:
                raise ValueError(msg("out を指定しない実行では先頭の指摘しか保持していません（findings_limit=None で全件）",
                                     "a run without out keeps only the first findings (findings_limit=None keeps all)"))
            yield from self.findings
            return
        with open(self.out / "findings.jsonl", encoding="utf-8") as fh:
            for line in fh:
                yield Finding.model_validate_json(line)


#: --as-of dates the engine can represent with room for the calendar around them.
AS_OF_RANGE = (dt.date(1900, 1, 1), dt.date(9998, 12, 31))


def as_of_utc(as_of: dt.date | str) -> tuple[dt.date, dt.datetime]:
    """The ``--as-of`` date and the audit time: 00:00 JST of it, as naive UTC.

    Raises :class:`ConfigError` for text that is not a date and for a date outside
    :data:`AS_OF_RANGE`.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of.strip())
        except ValueError:
            raise ConfigError(
                msg(f"--as-of: 日付 YYYY-MM-DD ではありません（{as_of!r}）",
                    f"--as-of: not a date YYYY-MM-DD ({as_of!r})")
            ) from None
    low, high = AS_OF_RANGE
    if not low <= as_of <= high:
        raise ConfigError(msg(f"--as-of {as_of.isoformat()} は範囲外です（{low.isoformat()} 〜 {high.isoformat()}）",
                              f"--as-of {as_of.isoformat()} is out of range ({low.isoformat()} .. {high.isoformat()})"))
    return as_of, dt.datetime.combine(as_of, dt.time()) - JST_OFFSET


def exit_code_for(by_severity: Mapping[str, int], fail_on: str) -> int:
    """0 when no finding is at or above ``fail_on`` (``by_severity``: findings per severity), else 1."""
    floor = SEVERITIES.index(fail_on)
    return 1 if any(n and SEVERITIES.index(s) >= floor for s, n in by_severity.items()) else 0


def _plain(value: Any) -> Any:
    """Models, dataclasses and tuples of the other parts as JSON-ready values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    while True:
        chunk = cur.fetchmany(10_000)
        if not chunk:
            return
        for row in chunk:
            yield dict(zip(names, row))


def _load_policy(policy: Any) -> Any:
    from ..policy import Policy

    if policy is None or isinstance(policy, (str, os.PathLike)):
        try:
            return Policy.load(policy)
        except Exception as exc:  # noqa: BLE001 - any load failure stops the run (exit 2)
            where = str(policy) if policy is not None else "policies"
            raise ConfigError(msg(f"{where}: ポリシーを読み込めません（{exc}）",
                                  f"{where}: cannot load the policy ({exc})")) from exc
    return policy


def audit(
    data_dir: Path | str,
    *,
    as_of: dt.date | str,
    out: Path | str | None = None,
    settings: AuditSettings | None = None,
    config: Path | str | None = None,
    policy: Any = None,
    progress: Callable[..., Any] | None = None,
    key: bytes | None = None,
    log: Callable[..., None] | None = None,
    findings_limit: int | None = 10_000,
    **options: Any,
) -> AuditResult:
    """Audit ``data_dir`` as of 00:00 JST of ``as_of`` (SPEC §3–§6).

    The options are an :class:`AuditSettings` (``settings``) and/or its fields as keyword arguments
    (``fail_on="medium"``, ``session_hours=9`` or ``thresholds={...}``, ``file_mode=0o640`` …);
    keyword arguments override ``settings``, which overrides the ``config`` TOML file, which
    overrides the defaults (``PIA_POLICY_DUCKDB_MEMORY_LIMIT`` sits between the file and the
    arguments). ``policy`` is a directory or a loaded ``Policy``. With ``out``, writes
    findings.jsonl, summary.json, rejected.jsonl, findings.csv (and, with ``reports``, report.html
    and notices/). Raises :class:`ConfigError` for an invalid option (one line naming it and its
    valid range) and ``pia_policy.inputs.InputError`` for missing required inputs. DuckDB runs on
    a database file in a temporary directory with a memory limit and spills beyond it; the
    directory is removed. With the option ``state`` (SPEC §8: a SQLite file or a ``postgresql://``
    URL) the night continues the earlier ones: events at or after the audit time are deferred,
    findings carry their lifecycle and triage, and the state is written in one transaction after
    the outputs (:class:`pia_policy.state.StateError`, a ConfigError, when it cannot be used).
    Findings are streamed from DuckDB to the files; the result holds the
    first ``findings_limit`` of them (None: all) and :meth:`AuditResult.iter_findings` reads the rest.
    Inputs that are symbolic links are read only when their target lies in the data directory or
    under ``allow_link_root``; ``out`` must be new, empty or a previous output, outside the data
    directory and not a link (``OutputDirError``).
    """
    from ..inputs import ingest

    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    say = log or run_logger()
    policy_obj = None
    if policy is not None and not isinstance(policy, (str, os.PathLike)):
        policy_obj = policy
    elif policy is not None:
        options["policy"] = policy
    opts = resolve_settings(settings, config=config, overrides=options)
    params = opts.thresholds.params()
    fail_on = opts.fail_on
    as_of_date, audit_utc = as_of_utc(as_of)
    pol = policy_obj if policy_obj is not None else _load_policy(opts.policy)
    data_dir = Path(data_dir)
    guard = contextlib.ExitStack()
    if out is not None:  # refused before any work; held until the outputs are swapped in
        from ..outputs import check_out_dir, dir_mode_for, lock_out_dir

        out = check_out_dir(out, data_dir=data_dir)
        os.makedirs(out.parent, mode=dir_mode_for(opts.file_mode), exist_ok=True)
        guard.enter_context(lock_out_dir(out))
    say("run_start", as_of=as_of_date.isoformat(), fail_on=fail_on, thresholds=params, engine=opts.engine)
    night = None
    display = tty_progress() if progress is None else None
    feed = progress if progress is not None else display
    try:
        if opts.state is not None:
            from ..state import Night, StateStore

            night = Night(StateStore(opts.state), as_of_date, audit_utc)
        rules_engine = None
        if opts.engine == "spark":  # started before any work: a missing pyspark or Java stops the run at once
            from ._spark import open_spark

            rules_engine = open_spark(opts.spark_remote)
            guard.callback(rules_engine.close)
            say("spark_ready", **rules_engine.info)
        con, work, engine = _open_engine(opts.memory_limit())
    except BaseException:
        if night is not None:
            night.close()
        guard.close()
        if display is not None:
            display.close()
        raise
    try:
        if display is not None:
            display.stage(msg("入力を読み込み中", "reading inputs"))
        t_in = time.perf_counter()
        ingested = ingest(con, data_dir, as_of_utc=audit_utc, encoding=opts.encoding, mapping=opts.mapping,
                          progress=feed, defer=night is not None, allow_link_roots=opts.allow_link_root)
        con.execute("SET preserve_insertion_order = false")  # the engine orders what it returns
        counts = dict(_plain(ingested.counts))
        if night is not None:
            night.prepare(con, counts)
        say("ingest_done", seconds=round(time.perf_counter() - t_in, 3),
            **{k: v for k, v in counts.items() if isinstance(v, int)})
        if display is not None:
            display.stage(msg("ルールを適用中", "running the rules"))
        result = run_engine(con, pol, as_of_utc=audit_utc, params=params,
                            present=getattr(ingested, "present", None), log=say,
                            after_rules=night.after_rules if night is not None else None, engine=rules_engine)
        engine["memory_raised"] = list(getattr(result, "memory_raised", []))
        if rules_engine is not None:  # the rules ran on Spark; ingest and aggregation on this DuckDB
            engine = {**rules_engine.info, "duckdb": engine}
        counts["rejected_by_reason"] = {
            r: int(n) for r, n in con.execute(
                "SELECT reason, COUNT(*) FROM rejected GROUP BY reason ORDER BY reason").fetchall()
        }
        shown: list[Any] | None = None  # a run with a state: its findings, as a list (see below)
        if night is None:
            by_rule, by_severity = result.findings_by_rule, result.findings_by_severity
            code = exit_code_for(by_severity, fail_on)
        else:
            # SPEC §8 lifecycle and triage work on the night's whole list of findings (the
            # state keeps each one): with a state the findings are read into memory.
            shown, counted = night.judge(read_findings(con))
            by_rule = {rid: 0 for rid in RULE_IDS}
            by_severity = {s: 0 for s in reversed(SEVERITIES)}
            for f in shown:
                by_rule[f.rule] += 1
                by_severity[f.severity] += 1
            code = exit_code_for(Counter(f.severity for f in counted), fail_on)
        finished = dt.datetime.now(dt.timezone.utc)
        policy_path = getattr(pol, "directory", None) or getattr(pol, "path", None) or opts.policy
        summary: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "pia-policy", "version": __version__},
            "as_of": as_of_date.isoformat(),
            "audit_time": iso_jst(audit_utc),
            "run": {
                "started_at": started.isoformat(),
                "finished_at": finished.isoformat(),
                "seconds": round(time.perf_counter() - t0, 3),
                "engine": engine,
            },
            "inputs": _plain(getattr(ingested, "inputs", [])),
            "outputs": [],
            "policy": {"path": str(policy_path) if policy_path is not None else None,
                       "versions_used": result.versions_used,
                       "version_changes": version_changes(pol, result.versions_used)},
            "thresholds": params,
            "fail_on": fail_on,
            "rules_run": result.rules_run,
            "rules_skipped": result.rules_skipped,
            "file_errors": _plain(getattr(ingested, "file_errors", [])),
            # files in events/ that are not logs (README.txt, *.bak, *.json): never read, so named here
            "ignored_files": _plain(getattr(ingested, "ignored_files", [])),
            "counts": counts,
            "findings_by_rule": by_rule,
            "findings_by_severity": by_severity,
            "breakdowns": result.breakdowns,
            "exit_code": code,
        }
        if night is not None:
            summary["state"] = {"path": night.store.where, "base_night": night.base.as_of,
                                "rerun": night.base.rerun, "open_per_night": night.open_per_night()}
            summary["lifecycle"] = night.summary["lifecycle"]
            summary["systems_silent"] = night.summary["systems_silent"]
        if result.log_retention is not None:  # log_archive.csv given: III-4「5年間保存」 coverage
            summary["log_retention"] = result.log_retention
        out_path: Path | None = None
        if out is not None:
            if display is not None:
                display.stage(msg("結果を書き出し中", "writing outputs"))
            out_path = _write(con, Path(out), shown, summary, reports=opts.reports, file_mode=opts.file_mode,
                              key=key, reply_days=opts.reply_days, sender=opts.notice_sender)
            written = out_path / "summary.json"
            if written.is_file():  # the summary as written: with outputs (and signature)
                summary = json.loads(written.read_text(encoding="utf-8"))
        if night is not None:  # SPEC §8: after the outputs, one transaction
            night.commit(counts)
        findings = shown[:findings_limit] if shown is not None else read_findings(con, limit=findings_limit)
        findings_total = len(shown) if shown is not None else result.findings_total
    except Exception as exc:
        say("run_failed", error=type(exc).__name__, seconds=round(time.perf_counter() - t0, 3))
        raise
    finally:
        _close_engine(con, work)
        if night is not None:
            night.close()
        guard.close()
        if display is not None:
            display.close()
    say("run_end", findings=findings_total, exit_code=code, distinct_requests=result.distinct_requests,
        seconds=round(time.perf_counter() - t0, 3), findings_by_severity=by_severity,
        **{f"{k}_seconds": v for k, v in result.timings.items()})
    return AuditResult(findings=findings, findings_total=findings_total, summary=summary, exit_code=code,
                       out=out_path)


def _write(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    findings: list[Finding] | None,
    summary: dict[str, Any],
    *,
    reports: bool,
    file_mode: int,
    key: bytes | None,
    reply_days: int = 14,
    sender: str | None = None,
) -> Path:
    """The outputs: ``findings`` (a run with a state: its list) or else the engine's table, streamed."""
    from ..outputs import write_outputs

    extras: Callable[[Path], list[str]] | None = None
    if reports:
        try:
            from ..report import NOTICE_RULES, REPORT_ROWS, write_reports
        except ImportError:  # the report part is optional; the SPEC files are always written
            write_reports = None  # type: ignore[assignment]
        if write_reports is not None:
            def extras(staging: Path) -> list[str]:
                # the report's rows and the notices' findings only: never every finding in memory
                rows = findings if findings is not None else finding_rows(con, limit=REPORT_ROWS,
                                                                          also_rules=NOTICE_RULES)
                named = {"sender": sender} if sender else {}
                return list(write_reports(staging, rows, summary, reply_days=reply_days, lang=lang(),
                                          max_rows=REPORT_ROWS, total=sum(summary["findings_by_severity"].values()),
                                          **named) or [])
    rejected = _rows(con, "SELECT file, line, reason, field, detail, excerpt FROM rejected ORDER BY file, line")
    duplicates = _rows(
        con, "SELECT file, line, event_id, first_file, first_line FROM duplicates ORDER BY file, line"
    )
    source = findings if findings is not None else finding_rows(con)
    return write_outputs(out, findings=source, summary=summary, rejected=rejected, duplicates=duplicates,
                         extras=extras, file_mode=file_mode, key=key)
