#!/usr/bin/env bash
# Nightly pia-policy audit of yesterday's access logs (see README.md, "Nightly cron").
#
# --as-of is TODAY's JST date: the audit time is 00:00 JST of --as-of and the logs cover the
# time before it, so `--as-of 2025-04-04` audits everything up to the end of 2025-04-03
# ("yesterday").
#
# Continuous operation (SPEC §8): every night runs with the same --state. logrotate runs at
# 00:05 with copytruncate, so yesterday's rotated file also holds today's first minutes: those
# events are not rejected but deferred in the state and judged tomorrow night (nothing falls
# between two nights' files). A rotated file that arrives late (its day already audited without
# it) is fed on the next night that finds it, within LOOKBACK_DAYS; an event_id already judged
# is a duplicate, so a file fed twice is harmless.
#
# Exit codes: 0 the audit ran (with or without findings: findings are reported, not a job
# failure); 2 the audit could not run (missing logs or ledgers, bad config): cron mails it and
# monitoring should page the operator. Override anything below through the environment.
set -euo pipefail

PIA_POLICY=${PIA_POLICY:-pia-policy}
LOG_ROOT=${LOG_ROOT:-/var/log/pia}            # <LOG_ROOT>/<system>/access.{jsonl,csv}-YYYYMMDD[.gz] (logrotate dateext)
LEDGER_DIR=${LEDGER_DIR:-/srv/pia/ledgers}     # accounts.csv personnel.csv officers.csv terminals.csv approvals.csv
WORK_ROOT=${WORK_ROOT:-/srv/pia/work}          # per-night data directories (symlinks; deleted after the run)
OUT_ROOT=${OUT_ROOT:-/srv/pia/audits}          # <OUT_ROOT>/<as-of>/ findings.jsonl summary.json report.html notices/
CONFIG=${CONFIG:-}                             # optional --config FILE.toml (thresholds)
FAIL_ON=${FAIL_ON:-high}
DAYS=${DAYS:-1}                                # 1: nightly; 31: a monthly audit over the same layout
STATE=${STATE-/srv/pia/state.db}               # the nights' memory (SQLite file or postgresql:// URL); empty: none
LOOKBACK_DAYS=${LOOKBACK_DAYS:-7}              # late rotated files of these earlier days are fed when they appear
KEEP_DAYS=${KEEP_DAYS:-400}                    # retention of audit outputs
NOTIFY_FINDINGS=${NOTIFY_FINDINGS:-}           # command run with the output dir when findings ≥ FAIL_ON
NOTIFY_FAILURE=${NOTIFY_FAILURE:-}             # command run with a message when the audit cannot run
SYSTEMS=${SYSTEMS:-"gyomu_kyotsu fukushi hyojun"}
AS_OF=${AS_OF:-$(TZ=Asia/Tokyo date +%F)}      # today (JST); set AS_OF=YYYY-MM-DD to re-run a night

log() { printf '%s pia-audit[%s] %s\n' "$(date -u +%FT%TZ)" "$AS_OF" "$*"; }
fail() {
    log "ERROR: $*"
    if [[ -n "$NOTIFY_FAILURE" ]]; then $NOTIFY_FAILURE "pia-policy audit $AS_OF: $*" || true; fi
    exit 2
}

mkdir -p "$WORK_ROOT" "$OUT_ROOT"
exec 9>"$WORK_ROOT/.lock"
flock -n 9 || fail "another audit is still running"

DATA="$WORK_ROOT/$AS_OF"
rm -rf "$DATA"
mkdir -p "$DATA/events"
trap 'rm -rf "$DATA"' EXIT

# 1. the rotated logs (JSON Lines, gzipped JSON Lines or CSV exports) of the DAYS days before
#    AS_OF, renamed to what the audit reads; with a state, also the late files of LOOKBACK_DAYS
#    earlier days that no night has fed yet (FED lists "<system> <day>" of every file fed).
FED="$WORK_ROOT/fed.list"
touch "$FED"
found=0
fed_now=()
feed() {  # feed <system> <day> <warn>: link that day's rotated file(s) of the system
    local sys=$1 day=$2 warn=$3 stamp=${2//-/} got="" src ext
    for src in "$LOG_ROOT/$sys/access.jsonl-$stamp.gz" "$LOG_ROOT/$sys/access.jsonl-$stamp" \
               "$LOG_ROOT/$sys/access.csv-$stamp"; do
        [[ -f "$src" ]] || continue
        case "$src" in *.gz) ext=jsonl.gz ;; *access.csv-*) ext=csv ;; *) ext=jsonl ;; esac
        ln -s "$(readlink -f "$src")" "$DATA/events/$sys-$day.$ext"
        got=1; found=$((found + 1))
        [[ "$ext" == jsonl.gz || "$ext" == jsonl ]] && break  # a .gz and its plain copy: one of them
    done
    if [[ -n "$got" ]]; then
        fed_now+=("$sys $day")
    elif [[ -n "$warn" ]]; then
        log "WARNING: no log of $sys for $day (rotation late? it is fed when it appears; LOG_GAP shows the hole)"
    fi
}
for i in $(seq "$DAYS" -1 1); do
    day=$(date -d "$AS_OF - $i day" +%F)
    for sys in $SYSTEMS; do feed "$sys" "$day" warn; done
done
if [[ -n "$STATE" && -s "$FED" ]]; then
    for i in $(seq $((DAYS + LOOKBACK_DAYS)) -1 $((DAYS + 1))); do
        day=$(date -d "$AS_OF - $i day" +%F)
        for sys in $SYSTEMS; do
            grep -qxF "$sys $day" "$FED" || feed "$sys" "$day" ""
        done
    done
fi
(( found > 0 )) || fail "no access log for the $DAYS day(s) before $AS_OF under $LOG_ROOT"

# 2. the ledgers as exported tonight (required: accounts, personnel; the others enable their rules)
for f in accounts.csv personnel.csv officers.csv terminals.csv approvals.csv; do
    if [[ -f "$LEDGER_DIR/$f" ]]; then
        ln -s "$(readlink -f "$LEDGER_DIR/$f")" "$DATA/$f"
    else
        log "WARNING: $LEDGER_DIR/$f missing (required ledgers make the audit exit 2; optional ones skip rules)"
    fi
done

# 3. the audit; the output directory is swapped in atomically by pia-policy
OUT="$OUT_ROOT/$AS_OF"
# the data directory holds links into LOG_ROOT and LEDGER_DIR: allow exactly those roots
args=(audit "$DATA" --as-of "$AS_OF" --out "$OUT" --fail-on "$FAIL_ON"
      --allow-link-root "$LOG_ROOT" --allow-link-root "$LEDGER_DIR")
[[ -n "$STATE" ]] && args+=(--state "$STATE")
[[ -n "$CONFIG" ]] && args+=(--config "$CONFIG")
log "running $PIA_POLICY ${args[*]}"
set +e
"$PIA_POLICY" "${args[@]}"
rc=$?
set -e

if [[ -n "$STATE" ]] && (( rc == 0 || rc == 1 )); then printf '%s\n' "${fed_now[@]}" >> "$FED"; fi
case $rc in
    0)  log "done: no finding at or above $FAIL_ON ($OUT)" ;;
    1)  log "done: findings at or above $FAIL_ON: $OUT/report.html"
        if [[ -n "$NOTIFY_FINDINGS" ]]; then $NOTIFY_FINDINGS "$OUT" || log "WARNING: notification failed"; fi ;;
    *)  fail "the audit could not run (exit $rc); see the messages above" ;;
esac
ln -sfn "$OUT" "$OUT_ROOT/latest"

# 4. retention
find "$OUT_ROOT" -mindepth 1 -maxdepth 1 -type d -name '20??-??-??' -mtime +"$KEEP_DAYS" -exec rm -rf {} + || true
exit 0
