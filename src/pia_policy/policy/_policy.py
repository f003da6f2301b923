"""``Policy``: load, version, compile and decide (docs/DESIGN.md, Policy API)."""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import casbin

from .. import rules
from .._i18n import msg
from ..models import ACTIONS, JST, JST_OFFSET, RESOURCES, SYSTEMS, AccessRequest, Account, Decision, Officer
from ._decide import decide as _decide
from ._decide import decide_key
from ._domain import PERMISSIONS, known_departments
from ._engine import (
    POLICY_TOKENS,
    CasbinEvaluator,
    CompiledPolicy,
    Evaluator,
    RequestKey,
    Vocabulary,
    build_enforcer,
    request_key,
)
from ._errors import PolicyError
from ._query import transfer_purposes, transfer_recipients
from ._issuance import IssuancePolicy, IssuanceRequest, citation_of, read_issuance
from ._source import (
    PolicyLine,
    PolicySource,
    PolicyVersion,
    expand_lines,
    holder_departments_from,
    read_source,
)

__all__ = ["Policy", "JST", "to_utc_naive", "jst_date"]

_CACHE_MAX = 200_000
Moment = dt.datetime | dt.date | str


def _parse_moment(when: Moment) -> dt.datetime | dt.date:
    if isinstance(when, str):
        text = when.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"cannot parse time {when!r}: use ISO 8601 (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+09:00])") from None
    if isinstance(when, dt.datetime):
        try:  # 9999-12-31T23:59:59-12:00 is a valid text whose UTC and JST fall past year 9999
            (when if when.tzinfo else when.replace(tzinfo=JST)).astimezone(dt.timezone.utc).astimezone(JST)
        except OverflowError:
            raise ValueError(f"time {when.isoformat()} is out of range: in UTC and in JST it must fall "
                             "within the years 0001..9999") from None
    return when


def to_utc_naive(when: Moment) -> dt.datetime:
    """Naive UTC of a time; naive input and dates are JST (a date is 00:00 JST)."""
    value = _parse_moment(when)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=JST)
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _jst_naive(when: Moment) -> dt.datetime:
    """Naive JST datetime of a time (fast path for naive datetimes)."""
    if type(when) is dt.datetime and when.tzinfo is None:
        return when
    value = _parse_moment(when)
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value
    return value.astimezone(JST).replace(tzinfo=None)


def jst_date(when: Moment) -> dt.date:
    """The JST day of a time (naive = JST)."""
    value = _parse_moment(when)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(JST)
        return value.date()
    return value


@dataclass
class _State:
    """One immutable generation of a loaded policy; ``reload`` swaps the whole object."""

    source: PolicySource
    lines: list[PolicyLine]
    vocab: Vocabulary
    compiled: Evaluator
    enforcer: casbin.Enforcer
    reference: CasbinEvaluator
    citations: dict[str, dict[str, Any]]
    business: frozenset[str]
    departments: frozenset[str] = frozenset()
    affairs: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    version_ids: frozenset[str] = frozenset()
    issuance: IssuancePolicy | None = None
    cache: dict[RequestKey, Decision] = field(default_factory=dict)
    #: check_access's valid values with None where a value is optional (one membership test each)
    valid_affairs: frozenset[str | None] = frozenset()
    valid_recipients: frozenset[str | None] = frozenset()
    valid_methods: frozenset[str | None] = frozenset()
    starts: list[dt.datetime] = field(default_factory=list)
    ends: list[dt.datetime | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = [dt.datetime.combine(v.in_force_from, dt.time()) for v in self.source.versions]
        self.ends = [dt.datetime.combine(v.in_force_to, dt.time()) if v.in_force_to else None
                     for v in self.source.versions]
        g4_groups = {pl.values[1] for pl in self.lines if pl.ptype == "g4"}
        self.affairs = frozenset(pl.values[0] for pl in self.lines
                                 if pl.ptype == "g4" and pl.values[0] not in g4_groups)
        self.purposes = frozenset(self.source.metadata.get("purposes", {}))
        self.departments = known_departments(self.lines, self.vocab.holders, self.source.metadata) | self.business
        self.version_ids = frozenset(v.id for v in self.source.versions)
        self.valid_affairs = self.affairs | self.purposes | {None}
        self.valid_recipients = self.departments | {None}
        self.valid_methods = frozenset(self.vocab.transfer_methods) | {None, ""}

    def citation(self, line_id: str) -> str:
        return str(self.citations.get(line_id, {}).get("citation", ""))


def _vocabulary(meta: dict[str, Any], holders: frozenset[str]) -> Vocabulary:
    t = meta.get("tokens", {})
    base = Vocabulary(holders=holders)
    return Vocabulary(
        holders=holders,
        holder_group=t.get("holder_group", base.holder_group),
        staff_role=t.get("staff_role", base.staff_role),
        my_number_role=t.get("my_number_role", base.my_number_role),
        my_number_resource=t.get("my_number_resource", base.my_number_resource),
        export_roles=frozenset(t.get("export_roles", base.export_roles)),
        transfer_resource=t.get("transfer_resource", base.transfer_resource),
        transfer_method=t.get("transfer_method", base.transfer_method),
        transfer_methods=tuple(t.get("transfer_methods", base.transfer_methods)),
        transfer_system=t.get("transfer_system", base.transfer_system),
    )


def _build_state(source: PolicySource, holder_departments: Iterable[str] | None) -> _State:
    holders = holder_departments_from(source.metadata, holder_departments)
    if not holders:
        where = str(source.directory / "metadata.toml") if source.directory else None
        raise PolicyError("no holder department: pass holder_departments or set [holders] departments", file=where)
    vocab = _vocabulary(source.metadata, holders)
    # the model is in the family (read_source checked it): the compiled evaluator is exact
    dept_pos = {"p": tuple(i for i, t in enumerate(POLICY_TOKENS) if t in ("dom", "rcpt")), "g2": (0, 1)}
    lines = expand_lines(source.lines, dept_pos, holders, vocab.holder_group)
    enforcer = build_enforcer(source.model_text, lines)
    reference = CasbinEvaluator(enforcer)
    compiled: Evaluator = CompiledPolicy(lines).prepare()
    business = _business_departments(lines, holders)
    issuance = read_issuance(source.directory) if source.directory is not None else None
    return _State(source, lines, vocab, compiled, enforcer, reference,
                  dict(source.metadata.get("lines", {})), business, issuance=issuance)


def _business_departments(lines: Sequence[PolicyLine], holders: frozenset[str]) -> frozenset[str]:
    parents: dict[str, set[str]] = {}
    group_names: set[str] = set()
    for pl in lines:
        if pl.ptype == "g2":
            parents.setdefault(pl.values[0], set()).add(pl.values[1])
            group_names.add(pl.values[1])
    recipients: set[str] = set()
    targets = {pl.values[7] for pl in lines if pl.ptype == "p" and pl.values[3] == "transfer" and pl.values[7] != "*"}
    concrete = {d for d in parents if d not in group_names}
    for d in concrete:
        seen, frontier = {d}, {d}
        while frontier:
            frontier = {p for n in frontier for p in parents.get(n, ())} - seen
            seen |= frontier
        if seen & targets:
            recipients.add(d)
    recipients |= {t for t in targets if t not in group_names}
    return frozenset(holders | recipients)


def _check(what_ja: str, what_en: str, value: Any, valid: Iterable[str], *, optional: bool = True) -> None:
    """ValueError naming the valid values unless ``value`` is one of them (or None when optional)."""
    if value is None and optional:
        return
    if isinstance(value, str) and value in valid:
        return
    listed = ", ".join(sorted(valid))
    raise ValueError(msg(f"不明な{what_ja}: {value!r}（有効な値: {listed}）",
                         f"unknown {what_en}: {value!r} (valid: {listed})"))


def _check_request(st: _State, *, department: str | None = None, action: str | None = None,
                   resource: str | None = None, affair: str | None = None, recipient: str | None = None,
                   method: str | None = None) -> None:
    """SPEC §9: the API refuses an unknown department, action, resource, affair, purpose or method."""
    if department is not None:
        _check("部署", "department", department, st.departments)
    if action is not None:
        _check("操作", "action", action, ACTIONS)
        if resource is None and action not in ("login", "logout"):
            raise ValueError(msg(f"{action} には項目 (resource) が必要（有効な値: {', '.join(RESOURCES)}）",
                                 f"{action} needs a resource (valid: {', '.join(RESOURCES)})"))
    _check("項目", "resource", resource, RESOURCES)
    _check("事務・用途", "affair", affair, st.affairs | st.purposes)
    _check("移転先", "recipient department", recipient, st.departments)
    _check("移転方法", "method", method or None, st.vocab.transfer_methods)  # "" = no method


_ACTIONS = frozenset(ACTIONS)
_RESOURCES = frozenset(RESOURCES)
_NO_RESOURCE = frozenset({"login", "logout"})


def _valid_access(st: _State, department: Any, action: Any, resource: Any, affair: Any, recipient: Any,
                  method: Any) -> bool:
    """True when :func:`_check_request` would accept these values: one set membership test each."""
    try:
        return (department in st.departments and action in _ACTIONS
                and (resource in _RESOURCES if resource is not None else action in _NO_RESOURCE)
                and affair in st.valid_affairs and recipient in st.valid_recipients and method in st.valid_methods)
    except TypeError:  # an unhashable value: _check_request names it
        return False


def _roles_in_office(person: str | None, system: str, officers: Iterable[Officer], t: dt.datetime) -> frozenset[str]:
    """Officer roles ``person`` holds for ``system`` at ``t`` (naive UTC; ``to`` is the first day out of office)."""
    if person is None:
        return frozenset()
    return frozenset(o.role for o in officers if o.system == system and o.person_id == person
                     and to_utc_naive(o.from_) <= t and (o.to is None or t < to_utc_naive(o.to)))


def _requirement(pl: PolicyLine) -> str:
    """An allow line as the conditions it sets (``by=system_owner`` ...), with its id."""
    names = ("emp", "by", "appr", "req")
    conds = [f"{n}={v}" for n, v in zip(names, pl.values[2:6]) if v != "*"]
    return f"{' '.join(conds) or 'any'} ({pl.values[7]})"


class Policy:
    """Effective-dated Casbin policies with compiled, cached, explained decisions."""

    def __init__(self, state: _State, loader: Callable[[], _State], origin: str) -> None:
        self._state = state
        self._loader = loader
        self._lock = threading.Lock()
        self.origin = origin
        #: (url, table) when loaded from a database (the watcher listens there)
        self._database: tuple[Any, str] | None = None

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None, *, holder_departments: Iterable[str] | None = None) -> Policy:
        """Load a policy directory (default: the packaged policies)."""
        holders = tuple(holder_departments) if holder_departments is not None else None

        def loader() -> _State:
            return _build_state(read_source(path), holders)

        state = loader()
        return cls(state, loader, str(state.source.directory))

    @classmethod
    def from_source(cls, source: PolicySource, *, holder_departments: Iterable[str] | None = None) -> Policy:
        """A policy of an already read source (``reload`` keeps it: there is nowhere to re-read from)."""
        holders = tuple(holder_departments) if holder_departments is not None else None
        state = _build_state(source, holders)
        return cls(state, lambda: state, str(source.directory))

    @classmethod
    def from_database(cls, url: Any, *, path: str | Path | None = None,
                      holder_departments: Iterable[str] | None = None,
                      table_name: str = "pia_policy_rule") -> Policy:
        """Load the policy lines (and the metadata saved with them) from a database; the model from ``path``.

        The lines are checked like files and linted (rows are edited live, without a CI): any
        lint problem is a ``PolicyError`` naming ``db:<table>`` and the row id, and a ``reload``
        that fails keeps the previous policy.
        """
        from ._db import load_lines, load_metadata_text
        from ._family import FAMILY
        from ._changes import RECORD_CODES
        from ._lint import lint

        holders = tuple(holder_departments) if holder_departments is not None else None

        def loader() -> _State:
            problems = [p for p in lint(path, holder_departments=holders, database=url, table_name=table_name)
                        if p.code not in RECORD_CODES]  # the filing record never blocks decisions
            if problems:
                first = problems[0]
                more = f" (and {len(problems) - 1} more: pia-policy lint --database URL)" if len(problems) > 1 else ""
                raise PolicyError(f"{first.code}: {first.message}{more}", file=first.file, line=first.line)
            base = read_source(path, lines=[])
            db_lines = load_lines(url, base.model_text, table_name=table_name, arity=FAMILY.arity())
            meta_text = load_metadata_text(url, table_name)
            return _build_state(read_source(path, lines=db_lines, metadata_text=meta_text), holders)

        state = loader()
        policy = cls(state, loader, f"database:{table_name}")
        policy._database = (url, table_name)
        return policy

    def save_to_database(self, url: Any, *, table_name: str = "pia_policy_rule") -> int:
        """Store this policy's lines (as written, before 各区X課 expansion) and its metadata; returns the count."""
        from ._db import save_lines
        from ._source import METADATA_FILE, read_policy_file

        st = self._state
        meta_text = None
        if st.source.directory is not None and (st.source.directory / METADATA_FILE).exists():
            meta_text = read_policy_file(st.source.directory / METADATA_FILE, st.source.directory)
        return save_lines(url, st.source.model_text, st.source.lines, table_name=table_name,
                          metadata_text=meta_text)

    def watch(self, callback: Callable[[Policy], Any] | None = None, *, interval: float = 1.0) -> Any:
        """Reload this policy whenever its source changes, in a background thread; returns the started
        ``PolicyChangeWatcher`` (``.stop()``, ``.reloads``, ``.last_error``; usable as a context manager).

        PostgreSQL: LISTEN/NOTIFY (a trigger on the table announces every change); SQLite: ``PRAGMA
        data_version`` and the file's identity; files: their inode, mtime and size.
        ``callback(policy)`` runs after each successful reload.
        """
        from ._watch import PolicyChangeWatcher

        return PolicyChangeWatcher(self, callback, interval=interval).start()

    def reload(self) -> None:
        """Re-read the policy from where it was loaded; readers see the old or the new state, never a mix."""
        with self._lock:
            new_state = self._loader()
            self._state = new_state

    # ---- metadata ------------------------------------------------------------------------------
    @property
    def directory(self) -> Path | None:
        return self._state.source.directory

    @property
    def metadata(self) -> dict[str, Any]:
        return self._state.source.metadata

    @property
    def versions(self) -> list[PolicyVersion]:
        return list(self._state.source.versions)

    @property
    def lines(self) -> list[PolicyLine]:
        """The policy lines after expansion (what Casbin holds)."""
        return list(self._state.lines)

    @property
    def source_lines(self) -> list[PolicyLine]:
        """The policy lines as written."""
        return list(self._state.source.lines)

    @property
    def enforcer(self) -> casbin.Enforcer:
        """The ``casbin.Enforcer`` holding this policy (the reference)."""
        return self._state.enforcer

    @property
    def holder_departments(self) -> frozenset[str]:
        return self._state.vocab.holders

    @property
    def business_departments(self) -> frozenset[str]:
        """Holder departments and every transfer recipient department of any version."""
        return self._state.business

    @property
    def purposes(self) -> dict[str, str]:
        """Transfer purpose codes (別紙1) and their 用途."""
        return dict(self._state.source.metadata.get("purposes", {}))

    @property
    def affairs(self) -> tuple[str, ...]:
        """Affair codes of the holder (every g4 member that is not itself a group, across versions)."""
        return tuple(sorted(self._state.affairs))

    @property
    def departments(self) -> frozenset[str]:
        """Every concrete department the API accepts: holders, recipients, metadata [departments].known."""
        return self._state.departments

    @property
    def vocabulary(self) -> Vocabulary:
        return self._state.vocab

    @property
    def evaluator(self) -> Evaluator:
        """The ``CompiledPolicy`` that decides (the loader admits only the model family it implements)."""
        return self._state.compiled

    def citation(self, line_id: str) -> str:
        """The citation of a policy line id ("" when the metadata has none)."""
        return self._state.citation(line_id)

    def version_at(self, when: Moment) -> PolicyVersion:
        """The version in force at ``when`` (datetime, date or ISO string; naive = JST)."""
        return self._version_at(self._state, _jst_naive(when))

    @staticmethod
    def _version_at(st: _State, t: dt.datetime) -> PolicyVersion:
        i = bisect.bisect_right(st.starts, t) - 1
        if i >= 0:
            end = st.ends[i]
            if end is None or t < end:
                return st.source.versions[i]
        first = st.source.versions[0]
        if t < st.starts[0] and not first.start_known:
            raise ValueError(
                f"no policy version in force on {t.date()} is known: the start of version {first.id} is "
                f"not recorded in the source; its first known day is {first.in_force_from} "
                f"(set in_force_from of version {first.id} in metadata.toml if the city knows it)")
        if t < st.starts[0]:
            raise ValueError(f"no policy version in force on {t.date()}: the first version {first.id} "
                             f"starts on {first.in_force_from}")
        raise ValueError(f"no policy version in force on {t.date()} "
                         f"(versions: {first.id} from {first.in_force_from} ... ; gaps are not covered)")

    def version_table(self) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
        """(id, from_utc, to_utc) per version, naive UTC, ``to`` exclusive, for SQL joins."""
        return [
            (v.id, to_utc_naive(v.in_force_from), to_utc_naive(v.in_force_to) if v.in_force_to else None)
            for v in self._state.source.versions
        ]

    # ---- decisions -----------------------------------------------------------------------------
    def decide(self, req: AccessRequest, *, validate: bool = True) -> Decision:
        """The decision for one request from the compiled policy (cached per distinct request).

        ``ValueError`` names the valid values for an unknown version, system, department, action,
        resource, affair, recipient or method. The audit passes ``validate=False``: its requests
        come from logs and ledgers, where an unknown value is data to judge, not a caller's error.
        """
        st = self._state
        if validate:
            _check("版", "version", req.version, st.version_ids, optional=False)
            _check("システム", "system", req.system, SYSTEMS, optional=False)
            _check("雇用区分", "employment", req.employment, ("regular", "non_regular", "contractor"), optional=False)
            _check("権限", "permission", req.permission, PERMISSIONS, optional=False)
            _check_request(st, department=req.department, action=req.action, resource=req.resource,
                           affair=req.affair, recipient=req.recipient_department, method=req.method)
        return self._decide_key(st, request_key(req))

    @staticmethod
    def _decide_key(st: _State, key: RequestKey) -> Decision:
        hit = st.cache.get(key)
        if hit is not None:
            return hit
        decision = decide_key(key, st.compiled, st.vocab, st.citation)
        if len(st.cache) >= _CACHE_MAX:
            st.cache.clear()
        st.cache[key] = decision
        return decision

    def decide_with_casbin(self, req: AccessRequest) -> Decision:
        """The same decision, every answer from ``casbin.Enforcer.enforce`` (reference, slow)."""
        st = self._state
        return _decide(req, st.reference, st.vocab, st.citation)

    def check_transfer(self, department: str, purpose: str, method: str | None = "fukushi_system",
                       at: Moment | None = None) -> Decision:
        """May the holder transfer (移転) to ``department`` for ``purpose`` by ``method`` at ``at``?"""
        st = self._state
        _check("移転先", "recipient department", department, st.departments, optional=False)
        _check("用途", "purpose", purpose, st.purposes, optional=False)
        _check("移転方法", "method", method or None, st.vocab.transfer_methods)
        when = at if at is not None else dt.datetime.now(JST)
        req = AccessRequest(
            version=self.version_at(when).id, system=st.vocab.transfer_system, department=st.vocab.canonical_holder,
            employment="regular", roles=frozenset({st.vocab.staff_role}), permission="update",
            action="transfer", resource=st.vocab.transfer_resource, affair=purpose,
            recipient_department=department, method=method,
        )
        return self.decide(req, validate=False)

    def recipients(self, purpose: str, at: Moment | None = None) -> list[str]:
        """Departments a transfer for ``purpose`` may go to at ``at``: each ``d`` whose ``check_transfer`` allows."""
        st = self._state
        _check("用途", "purpose", purpose, st.purposes, optional=False)
        version = self._version_at(st, _jst_naive(at if at is not None else dt.datetime.now(JST))).id
        return transfer_recipients(st.compiled, st.vocab, version, purpose, st.departments)

    def allowed_purposes(self, department: str, at: Moment | None = None) -> list[str]:
        """Purposes a transfer to ``department`` may have at ``at``: each ``p`` whose ``check_transfer`` allows."""
        st = self._state
        _check("移転先", "recipient department", department, st.departments, optional=False)
        version = self._version_at(st, _jst_naive(at if at is not None else dt.datetime.now(JST))).id
        return transfer_purposes(st.compiled, st.vocab, version, department, st.purposes)

    def officer_roles(self, account: Account, officers: Iterable[Officer], at: Moment) -> frozenset[str]:
        """Officer roles the account's holder has in office for the account's system at ``at``."""
        return _roles_in_office(account.person_id, account.system, officers, to_utc_naive(at))

    # ---- account issuance and revocation (policies/issuance_model.conf + issuance.csv) ----------
    @property
    def issuance(self) -> IssuancePolicy | None:
        """The issuance policy of the directory (None when it has no issuance files)."""
        return self._state.issuance

    def check_issuance(self, system: str, employment: str, *, person_id: str | None = None,
                       issued_by: str | None = None, approved_by: str | None = None,
                       request_ref: str | None = None, officers: Iterable[Officer] = (),
                       issuer_roles: Iterable[str] | None = None, approver_roles: Iterable[str] | None = None,
                       at: Moment | None = None) -> Decision:
        """May ``issued_by`` issue (and ``approved_by`` approve) an ID on ``system`` for ``person_id``?

        The officer roles of issuer and approver are those in office for ``system`` at ``at``
        (from ``officers``), or ``issuer_roles``/``approver_roles`` as given. Judged by the
        issuance policy with ``casbin.Enforcer`` (account screens, not log volumes).
        """
        t = to_utc_naive(at if at is not None else dt.datetime.now(JST))
        by = frozenset(issuer_roles) if issuer_roles is not None else _roles_in_office(issued_by, system, officers, t)
        appr = (frozenset(approver_roles) if approver_roles is not None
                else _roles_in_office(approved_by, system, officers, t))
        own = person_id is not None and person_id in (issued_by, approved_by)
        return self._judge_issuance(IssuanceRequest(system, "issue", employment, by, appr, bool(request_ref), own), t)

    def check_revocation(self, system: str, employment: str, *, person_id: str | None = None,
                         revoked_by: str | None = None, request_ref: str | None = None,
                         officers: Iterable[Officer] = (), revoker_roles: Iterable[str] | None = None,
                         at: Moment | None = None) -> Decision:
        """May ``revoked_by`` revoke the ID of ``person_id`` on ``system`` (``request_ref``: the department's request)?"""
        t = to_utc_naive(at if at is not None else dt.datetime.now(JST))
        by = frozenset(revoker_roles) if revoker_roles is not None else _roles_in_office(revoked_by, system, officers, t)
        own = person_id is not None and person_id == revoked_by
        return self._judge_issuance(IssuanceRequest(system, "revoke", employment, by, frozenset(),
                                                    bool(request_ref), own), t)

    def _judge_issuance(self, req: IssuanceRequest, t: dt.datetime) -> Decision:
        st = self._state
        if st.issuance is None:
            raise ValueError(msg(f"方針 {self.origin} に発効方針 (issuance_model.conf, issuance.csv) がない",
                                 f"the policy {self.origin} has no issuance policy (issuance_model.conf, issuance.csv)"))
        _check("システム", "system", req.system, sorted(set(SYSTEMS) | st.issuance.systems), optional=False)
        _check("雇用区分", "employment", req.employment, ("regular", "non_regular", "contractor"), optional=False)
        try:
            version = self._version_at(st, t + JST_OFFSET).id
        except ValueError:
            version = ""
        ok, line = st.issuance.enforce(req)
        lid = line[7] if line else None
        verb_ja, verb_en = ("発効", "issue") if req.action == "issue" else ("失効", "revoke")
        if ok:
            return Decision(allowed=True, rule=None, version=version, basis=citation_of(st.source.metadata, lid or ""),
                            matched=lid, explanation=msg(f"許可: 発効方針の {lid} に該当", f"allowed by issuance line {lid}"))
        rule = rules.get("ACCOUNT_ISSUER_INVALID")
        if lid is not None:  # a deny line
            why = msg(f"発効方針 {lid} により{verb_ja}できない（本人による{verb_ja}・承認）",
                      f"issuance line {lid} denies it (own account)")
            basis = citation_of(st.source.metadata, lid)
        else:
            needs = st.issuance.requirements(req.system, req.action, req.employment)
            wanted = "; ".join(_requirement(pl) for pl in needs) or msg("該当する許可行なし", "no allow line")
            why = msg(f"{req.system} の{verb_ja}の要件を満たさない（必要: {wanted}）",
                      f"does not meet what a {verb_en} on {req.system} needs ({wanted})")
            basis = "; ".join(dict.fromkeys(citation_of(st.source.metadata, pl.values[7]) for pl in needs)) or rule.basis
        return Decision(allowed=False, rule=rule.id, version=version, basis=basis, remedy=rule.remedy_ja,
                        matched=lid, explanation=why)

    def check_access(self, account: Account, action: str, resource: str | None, affair: str | None = None,
                     at: Moment | None = None, *, recipient_department: str | None = None,
                     method: str | None = None, officer_roles: Iterable[str] = (),
                     officers: Iterable[Officer] | None = None) -> Decision:
        """May this account do ``action`` on ``resource`` in ``affair`` at ``at``?

        ``ValueError`` names the valid values for an unknown department, action, resource, affair,
        recipient or method (a group name such as 各区健康課 is not a department).
        """
        st = self._state
        if not _valid_access(st, account.department, action, resource, affair, recipient_department, method):
            _check_request(st, department=account.department, action=action, resource=resource, affair=affair,
                           recipient=recipient_department, method=method)
        t = at if type(at) is dt.datetime and at.tzinfo is None else _jst_naive(at if at is not None else dt.datetime.now(JST))
        i = bisect.bisect_right(st.starts, t) - 1
        end = st.ends[i] if i >= 0 else None
        version = st.source.versions[i].id if i >= 0 and (end is None or t < end) else self._version_at(st, t).id
        if account.revoked_at is not None or account.expires_at is not None:
            denied = self._revoked(account, t, version)
            if denied is not None:
                return denied
        roles = account.roles
        if officer_roles:
            roles = roles | frozenset(officer_roles)
        if officers is not None:
            roles = roles | self.officer_roles(account, officers, t)
        # fields come typed from Account and checked above: the key is the request, no model is built
        return self._decide_key(st, (version, account.system, account.department, account.employment, roles,
                                     account.permission, action, resource, affair, recipient_department, method))

    @staticmethod
    def _revoked(account: Account, t: dt.datetime, version: str) -> Decision | None:
        for label, limit in (("revoked_at", account.revoked_at), ("expires_at", account.expires_at)):
            if limit is not None and t >= _jst_naive(limit):
                rule = rules.get("ACCESS_AFTER_REVOCATION")
                return Decision(
                    allowed=False, rule=rule.id, version=version, basis=rule.basis, remedy=rule.remedy_ja,
                    explanation=msg(f"アカウントは {label} ({limit.isoformat()}) 以降で無効",
                                    f"account is invalid from {label} ({limit.isoformat()})"),
                )
        return None

    def __repr__(self) -> str:
        return f"Policy(origin={self.origin!r}, versions={[v.id for v in self.versions]})"

