"""SQL that turns batches of raw lines into validated event records (DuckDB).

Python hands DuckDB pieces of bytes (see ``_stream``); everything below happens in the
engine: line splitting, JSON / CSV parsing, type checks, validation with a reason,
timestamp normalisation to naive UTC.
"""

from __future__ import annotations

import datetime as dt
import re

from .._i18n import msg
from ..departments import GROUP_PREFIX, WARD_GROUP_PREFIX
from ._fields import ENUM_FIELDS, EVENT_FIELDS, INT_FIELDS, REQUIRED_FIELDS, SESSION_ACTIONS, STRING_FIELDS
from ._mapping import Mapping
from ._records import CSV_MAX_RECORD_LINES
from ._stream import KIND_CUT, KIND_LONG, KIND_RECORD, KIND_UNCLOSED, KIND_UNDECODABLE, MAX_LINE_BYTES
from ._time import sql_literal as lit
from ._time import sql_layered, sql_strptime_ts, sql_ts_layers

__all__ = ["STAGE_COLUMNS", "REJECT_COLUMNS", "create_stage_sql", "json_fields_sql", "csv_fields_sql", "validate_sql"]

#: The staging table: the columns of ``events`` (in order), then the reject columns.
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "VARCHAR"),
    ("file_idx", "INTEGER"),
    ("line", "BIGINT"),
    ("event_id", "VARCHAR"),
    ("ts", "TIMESTAMP"),
    ("system", "VARCHAR"),
    ("seq", "BIGINT"),
    ("account_id", "VARCHAR"),
    ("session_id", "VARCHAR"),
    ("terminal_id", "VARCHAR"),
    ("action", "VARCHAR"),
    ("resource", "VARCHAR"),
    ("affair", "VARCHAR"),
    ("subject_id", "VARCHAR"),
    ("recipient_department", "VARCHAR"),
    ("method", "VARCHAR"),
    ("record_ref", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("field", "VARCHAR"),
    ("detail", "VARCHAR"),
    ("excerpt", "VARCHAR"),
)
REJECT_COLUMNS: tuple[str, ...] = ("reason", "field", "detail", "excerpt")

_Q = '"(?:[^"]|"")*"'
_U = '(?:[^,"][^,]*)?'
#: Tests set this to send every JSON line down the exact path (the fast path must agree with it).
FORCE_EXACT = False

CSV_RECORD_RE = f"(?:{_Q}|{_U})(?:,(?:{_Q}|{_U}))*"
CSV_FIELD_RE = f',({_Q}|[^,]*)'


def create_stage_sql(name: str) -> str:
    """DDL of the staging table that collects every record of every batch."""
    cols = ", ".join(f"{c} {t}" for c, t in STAGE_COLUMNS)
    return f"CREATE OR REPLACE TABLE {name} ({cols})"


def _lines_sql(src: str) -> str:
    """One row per physical line of the pieces in ``src`` (a CSV record over lines: one row); a CRLF's CR is removed."""
    return f"""
    SELECT file_idx, base + i - 1 AS line, kind, ex,
           CASE WHEN suffix(t0, chr(13)) THEN left(t0, -1) ELSE t0 END AS t
    FROM (SELECT file_idx, base, kind, ex, nl_end, len(s) AS n, unnest(s) AS t0, generate_subscripts(s, 1) AS i
          FROM (SELECT *, CASE WHEN kind >= {KIND_UNDECODABLE} THEN [NULL::VARCHAR]
                               WHEN kind >= {KIND_RECORD} THEN [decode(p)]
                               ELSE string_split(decode(p), chr(10)) END AS s FROM {src}))
    WHERE NOT (nl_end AND i = n)"""


def _map_value(expr: str, mapping: Mapping | None, fld: str) -> str:
    if mapping is None:
        return expr
    out = expr
    table = mapping.values.get(fld)
    if table:
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in table.items())
        out = f"(CASE {out} {whens} ELSE {out} END)"
    const = mapping.constants.get(fld)
    if const is not None:
        out = f"coalesce(NULLIF({out}, ''), {lit(const)})"
    return out


def _enc_detail(codec: str) -> str:
    return lit(
        msg(
            f"この行は {codec} として読めないバイトを含みます（ファイルの文字コードを確認し、必要なら --encoding を指定）",
            f"the line has bytes that do not decode as {codec} (check the file's encoding, or pass --encoding)",
        )
    )


def _cut_detail() -> str:
    return lit(
        msg(
            "gzip ファイルが途中で切れており、この行は最後まで読めません（元のログを取り直してください）",
            "the gzip file is cut short in the middle of this line (fetch the log again)",
        )
    )


def _long_detail() -> str:
    return lit(
        msg(
            f"行が {MAX_LINE_BYTES >> 20} MiB を超えるため読みません（先頭だけを抜粋に残しました。ログの出力設定を確認してください）",
            f"the line is longer than {MAX_LINE_BYTES >> 20} MiB and is not read (its start is in the excerpt; "
            "check how the log is written)",
        )
    )


def _json_string(v: str) -> str:
    """SQL: the string value of the JSON text ``v`` when it is a JSON string, else NULL."""
    return (
        f"CASE WHEN prefix({v}, '\"') THEN CASE WHEN contains({v}, '\\') THEN json_extract_string({v}, '$') "
        f"ELSE {v}[2:-2] END END"
    )


def _json_key(k: str) -> str:
    return k.replace("\\", "\\\\").replace('"', '\\"')


def json_fields_sql(src: str, mapping: Mapping | None, codec: str = "utf-8") -> str:
    """The field relation of JSON Lines pieces in ``src`` (one row per non-blank line).

    Fast path: one ``from_json`` per line into VARCHAR fields. A line that may carry a value of
    the wrong type (a RE2 test on the raw line: a field followed by a number, object, array or
    boolean, ``seq`` followed by anything but a number, or any ``\\u`` escape) takes the exact
    path: ``from_json`` into JSON texts, whose first character gives the type. Lines that do not
    parse are classified afterwards.
    """
    srcs = {f: (mapping.source(f) if mapping else f) for f in EVENT_FIELDS}
    keys = list(dict.fromkeys(srcs.values()))
    schema_json = "{" + ", ".join(f'"{_json_key(k)}": "JSON"' for k in keys) + "}"
    schema_str = "{" + ", ".join(f'"{_json_key(k)}": "VARCHAR"' for k in keys) + "}"
    str_keys = "|".join(re.escape(_json_key(srcs[f])) for f in STRING_FIELDS)
    int_keys = "|".join(re.escape(_json_key(srcs[f])) for f in INT_FIELDS)
    flag = f'"(?:{str_keys})"\\s*:\\s*[-0-9{{\\[tfNI]|"(?:{int_keys})"\\s*:\\s*[^-0-9n\\s]'
    cols = []
    for f in EVENT_FIELDS:
        cols.append(f"struct_extract(jv, {lit(srcs[f])}) AS s_{f}")
        cols.append(f"CAST(struct_extract(js, {lit(srcs[f])}) AS VARCHAR) AS v_{f}")
    inner = ", ".join(cols)
    out = []
    for f in EVENT_FIELDS:
        v = f"v_{f}"
        raw = f"CASE WHEN slow THEN {v} ELSE s_{f} END"
        if f in INT_FIELDS:
            out.append(f"CASE WHEN regexp_full_match({raw}, '-?[0-9]+') THEN {raw} END AS r_{f}")
            out.append(
                f"coalesce({raw} IS NOT NULL AND (NOT regexp_full_match({raw}, '-?[0-9]+') "
                f"OR TRY_CAST({raw} AS BIGINT) IS NULL), false) AS w_{f}"
            )
        else:
            value = f"CASE WHEN slow THEN {_json_string(v)} ELSE s_{f} END"
            out.append(f"{_map_value(value, mapping, f)} AS r_{f}")
            out.append(f"slow AND coalesce(NOT prefix({v}, '\"'), false) AS w_{f}")
        out.append(f"{raw} AS d_{f}")
    nul = lit(msg("行に NUL バイトが含まれ、JSON として読めません", "the line contains NUL bytes and is not valid JSON"))
    bad = lit(msg("JSON として読めません（1 行に 1 つの JSON オブジェクトが必要）", "not valid JSON (one JSON object per line expected)"))
    not_obj = msg("JSON オブジェクトではなく ", "a JSON ")
    not_obj2 = msg(" です（1 行に 1 つのオブジェクトが必要）", " value, not an object (one object per line expected)")
    return f"""
    WITH l AS ({_lines_sql(src)}),
    n AS (SELECT file_idx, line, kind, ex,
                 CASE WHEN starts_with(t, chr(65279)) THEN substr(t, 2) ELSE t END AS t FROM l),
    v AS (SELECT * FROM n WHERE kind >= {KIND_UNDECODABLE} OR prefix(t, '{{') OR regexp_matches(t, '[^ \t]')),
    x AS (SELECT *, CASE WHEN kind < {KIND_UNDECODABLE} THEN try(from_json(t, {lit(schema_str)})) END AS jv FROM v),
    f AS (SELECT *, kind < {KIND_UNDECODABLE} AND ({"true OR " if FORCE_EXACT else ""}jv IS NULL OR contains(t, '\\u')
                    OR contains(t, '\\/') OR regexp_matches(t, {lit(flag)})) AS slow
          FROM x),
    x2 AS (SELECT *, CASE WHEN slow THEN try(from_json(t, {lit(schema_json)})) END AS js FROM f),
    y AS (SELECT file_idx, line, t, ex, slow,
            CASE WHEN kind = {KIND_UNDECODABLE} THEN 'encoding' WHEN kind = {KIND_CUT} THEN 'io_error'
                 WHEN kind = {KIND_LONG} THEN 'line_too_long'
                 WHEN slow AND js IS NULL AND NOT json_valid(t) THEN 'invalid_json'
                 WHEN (slow AND js IS NULL) OR NOT (prefix(t, '{{') OR regexp_matches(t, '^[ \t]*[{{]'))
                 THEN 'not_object' END AS pre,
            {inner}
          FROM x2)
    SELECT file_idx, line, t, ex, pre,
      CASE WHEN pre = 'encoding' THEN {_enc_detail(codec)} WHEN pre = 'io_error' THEN {_cut_detail()}
           WHEN pre = 'line_too_long' THEN {_long_detail()}
           WHEN pre = 'invalid_json' THEN CASE WHEN contains(t, chr(0)) THEN {nul} ELSE {bad} END
           WHEN pre = 'not_object' THEN {lit(not_obj)} || lower(json_type(t)) || {lit(not_obj2)} END AS pre_detail,
      {", ".join(out)}
    FROM y"""


def csv_fields_sql(src: str, header: list[str], start_line: int, mapping: Mapping | None, *, codec: str) -> str:
    """The field relation of CSV pieces in ``src`` whose header is ``header`` (records from ``start_line``).

    Records over several lines arrive as one row each (``_records.csv_spans`` found them).
    """
    records = f"\n        r AS (SELECT * FROM ({_lines_sql(src)}) WHERE line >= {int(start_line)}),"
    width = len(header)
    index = {}
    for i, name in enumerate(header, start=1):
        index.setdefault(name, i)
    cols = []
    for f in EVENT_FIELDS:
        src_name = mapping.source(f) if mapping else f
        idx = index.get(src_name)
        raw = f"NULLIF(trim(cf[{idx}]), '')" if idx else "NULL::VARCHAR"
        if f in INT_FIELDS:
            cols.append(f"{raw} AS r_{f}")
            cols.append(
                f"coalesce({raw} IS NOT NULL AND (NOT regexp_full_match({raw}, '[+-]?[0-9]+') "
                f"OR TRY_CAST({raw} AS BIGINT) IS NULL), false) AS w_{f}"
            )
            cols.append(f"{raw} AS d_{f}")
        else:
            cols.append(f"{_map_value(raw, mapping, f)} AS r_{f}")
            cols.append(f"false AS w_{f}")
            cols.append(f"{raw} AS d_{f}")
    quote_bad = lit(
        msg("引用符（\"）の対応が取れていない CSV 行です", "malformed CSV quoting (unbalanced or stray double quote)")
    )
    unclosed = lit(
        msg(
            f"この行の引用符（\"）が {CSV_MAX_RECORD_LINES} 行以内に閉じて正しい行になりません"
            "（この行だけを除外し、次の行から読み直しました）",
            f"the double quote opened on this line does not close into a valid row within {CSV_MAX_RECORD_LINES} "
            "lines (only this line is rejected; the next lines are read on their own)",
        )
    )
    width_ja = msg("列数が ", "")
    width_en = msg(f" 列です（ヘッダーは {width} 列）", f" columns, the header has {width}")
    return f"""
    WITH {records}
    v AS (SELECT * FROM r WHERE kind >= {KIND_UNDECODABLE} OR regexp_matches(t, '[^ \t]')),
    c AS (SELECT *, CASE WHEN kind < {KIND_UNCLOSED} AND regexp_full_match(t, {lit(CSV_RECORD_RE)})
                         THEN list_transform(regexp_extract_all(',' || t, {lit(CSV_FIELD_RE)}, 1),
                              lambda x: CASE WHEN x[1] = '"' THEN replace(x[2:-2], '""', '"') ELSE x END) END AS cf
          FROM v)
    SELECT file_idx, line, t, ex,
      CASE WHEN kind = {KIND_UNDECODABLE} THEN 'encoding' WHEN kind = {KIND_CUT} THEN 'io_error'
           WHEN kind = {KIND_LONG} THEN 'line_too_long'
           WHEN kind = {KIND_UNCLOSED} OR cf IS NULL OR len(cf) <> {width} THEN 'csv_width' END AS pre,
      CASE WHEN kind = {KIND_UNDECODABLE} THEN {_enc_detail(codec)} WHEN kind = {KIND_CUT} THEN {_cut_detail()}
           WHEN kind = {KIND_LONG} THEN {_long_detail()}
           WHEN kind = {KIND_UNCLOSED} THEN {unclosed}
           WHEN cf IS NULL THEN {quote_bad}
           WHEN len(cf) <> {width} THEN {lit(width_ja)} || len(cf) || {lit(width_en)} END AS pre_detail,
      {", ".join(cols)}
    FROM c"""


def _blank(expr: str) -> str:
    """SQL: ``expr`` is NULL or only spaces and tabs (the regex runs only on values that start with one)."""
    return (
        f"({expr} IS NULL OR {expr} = '' OR ((prefix({expr}, ' ') OR prefix({expr}, chr(9))) "
        f"AND NOT regexp_matches({expr}, '[^ \\t]')))"
    )


def _show(expr: str) -> str:
    """A value quoted for a detail message (at most 60 characters)."""
    return f"'''' || left(replace({expr}, chr(10), ' '), 60) || ''''"


def validate_sql(
    fields: str, as_of_utc: dt.datetime, mapping: Mapping | None, names: str = "NULL", *, defer: bool = False
) -> str:
    """SELECT of stage rows (``STAGE_COLUMNS``) from the field relation ``fields``: the checks of SPEC §4.

    ``names`` is a SQL list of the events files' names, indexed by ``file_idx + 1``. With ``defer``
    (an audit with a state, SPEC §8) a record at or after the audit time passes validation: ingest
    moves it to ``deferred`` instead of rejecting it.
    """
    layers = sql_ts_layers("r_ts", "ts_iso")
    if mapping and mapping.timestamp_formats:
        layers.append(f"coalesce({sql_strptime_ts('r_ts', list(mapping.timestamp_formats))}, ts_iso) AS ts_utc")
        ts_hint = "、".join(mapping.timestamp_formats)
    else:
        layers.append("ts_iso AS ts_utc")
        ts_hint = "2025-04-01T09:00:00+09:00"
    as_of = as_of_utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    checks: list[tuple[str, str, str, str]] = [("pre IS NOT NULL", "pre", "NULL", "pre_detail")]
    for f in REQUIRED_FIELDS:
        checks.append(
            (
                f"NOT w_{f} AND {_blank(f'r_{f}')}",
                "'missing_field'",
                lit(f),
                lit(msg(f"必須項目 {f} がない、null、または空です", f"required field {f} is missing, null or empty")),
            )
        )
    for f in EVENT_FIELDS:
        want = msg("整数", "an integer") if f in INT_FIELDS else msg("文字列", "a string")
        checks.append(
            (
                f"w_{f}",
                "'wrong_type'",
                lit(f),
                lit(msg(f"{f} は{want}でなければなりません（実際の値: ", f"{f} must be {want}, got "))
                + f" || left(d_{f}, 60) || "
                + lit(msg("）", "")),
            )
        )
    checks.append(
        (
            "ts_utc IS NULL",
            "'bad_timestamp'",
            "'ts'",
            lit(msg("ts ", "ts "))
            + f" || {_show('r_ts')} || "
            + lit(
                msg(
                    f" は日時として読めません（ISO 8601、例 {ts_hint}）",
                    f" is not a date-time this tool can read (ISO 8601, e.g. {ts_hint})",
                )
            ),
        )
    )
    for f, allowed in ENUM_FIELDS.items():
        values = ", ".join(lit(a) for a in allowed)
        checks.append(
            (
                f"r_{f} IS NOT NULL AND r_{f} <> '' AND r_{f} NOT IN ({values})",
                "'unknown_value'",
                lit(f),
                lit(f"{f} ")
                + f" || {_show(f'r_{f}')} || "
                + lit(
                    msg(
                        f" は定義された値ではありません（{', '.join(allowed)}。ベンダー形式なら --mapping で対応付け）",
                        f" is not one of {', '.join(allowed)} (a vendor value? map it with --mapping)",
                    )
                ),
            )
        )
    # SPEC §4: a group name (各区X課, grp:…) is never a department.
    checks.append(
        (
            f"r_recipient_department LIKE '{WARD_GROUP_PREFIX}_%' OR r_recipient_department LIKE '{GROUP_PREFIX}%'",
            "'unknown_value'",
            "'recipient_department'",
            lit("recipient_department ")
            + f" || {_show('r_recipient_department')} || "
            + lit(
                msg(
                    " はグループ名で、部署ではありません（移転先の課を1つ書く）",
                    " is a group name, not a department (name the one recipient department)",
                )
            ),
        )
    )
    sess = ", ".join(lit(a) for a in SESSION_ACTIONS)
    checks.append(
        (
            f"r_action IN ({sess}) AND {_blank('r_session_id')}",
            "'missing_session_id'",
            "'session_id'",
            lit(msg("login / logout には session_id が必要です", "a login / logout needs a session_id")),
        )
    )
    checks.append(
        (
            "false" if defer else f"ts_utc >= TIMESTAMP '{as_of}'",
            "'after_audit_time'",
            "'ts'",
            lit(msg("ts ", "ts "))
            + f" || {_show('r_ts')} || "
            + lit(
                msg(
                    f" は監査時刻（{as_of_utc:%Y-%m-%d %H:%M} UTC）以降です（--as-of の日付を確認）",
                    f" is at or after the audit time ({as_of_utc:%Y-%m-%d %H:%M} UTC; check --as-of)",
                )
            ),
        )
    )
    rc = "CASE " + " ".join(f"WHEN {c} THEN {i}" for i, (c, _, _, _) in enumerate(checks)) + " END"
    # The reason columns are built only for the rows that failed (``rc`` set): the valid majority
    # skips the ~30 comparisons of each ``CASE rc``.
    def by_rc(part: int) -> str:
        whens = " ".join(f"WHEN {i} THEN {check[part]}" for i, check in enumerate(checks))
        return f"CASE WHEN rc IS NOT NULL THEN CASE rc {whens} END END"

    reason, field, detail = by_rc(1), by_rc(2), by_rc(3)
    values = []
    for f in EVENT_FIELDS:
        if f == "ts":
            values.append("CASE WHEN rc IS NULL THEN ts_utc END AS ts")
        elif f in INT_FIELDS:
            values.append(f"CASE WHEN rc IS NULL THEN TRY_CAST(r_{f} AS BIGINT) END AS {f}")
        else:
            values.append(f"CASE WHEN rc IS NULL THEN NULLIF(r_{f}, '') END AS {f}")
    by_name = {v.rsplit(" AS ", 1)[1]: v for v in values}
    ordered = [by_name[c] for c, _ in STAGE_COLUMNS[3:-4]]
    return f"""
    SELECT {names}[file_idx + 1] AS file, file_idx, line, {", ".join(ordered)},
           {reason} AS reason, {field} AS field, {detail} AS detail,
           CASE WHEN rc IS NOT NULL THEN coalesce(ex, left(t, 200)) END AS excerpt
    FROM (SELECT *, {rc} AS rc FROM {sql_layered(fields, layers)})"""
