"""The supported Casbin model family and the check of a whole model against it (SPEC §9).

The compiled evaluator implements exactly one model: ``FAMILY_MODEL_TEXT``. A model is in the
family when, section by section, it says the same thing: the same request and policy tokens in
the same order, the same role definitions, the same effect and the same matcher, compared token
by token (whitespace, line continuations, comments and the quote style of a string literal
aside). Anything else is a ``PolicyError`` naming the file and the line — a model that merely
looks canonical (``!some(where (p.eft == deny))``, ``r = dom, sub, …``, a literal ``"* "``, an
extra ``|| regexMatch(...)`` hidden in a string or a continued line) is refused, never compiled
into a different meaning.

The model text is read the way pycasbin reads it (``casbin.config.Config``: ``#``/``;``
comments, ``\\`` continuations, the last value of a repeated key wins) and the result is
cross-checked against pycasbin's own parse, so what is checked is what Casbin evaluates.

``ModelFamily.from_text`` builds a family from any reference model, so a second model (for
example an issuance model) is checked by the same code with its own description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from casbin.model import Model

from ._errors import PolicyError

__all__ = [
    "FAMILY_MODEL_TEXT",
    "FAMILY",
    "ModelFamily",
    "ModelSections",
    "Token",
    "tokenize",
    "parse_model",
    "check_model",
    "model_problems",
]

#: The model the compiled evaluator implements (policies/model.conf says the same).
FAMILY_MODEL_TEXT = """
[request_definition]
r = sub, dom, obj, act, aff, ver, perm, rcpt, meth

[policy_definition]
p = sub, dom, obj, act, aff, ver, perm, rcpt, meth, id

[role_definition]
g = _, _, _
g2 = _, _
g3 = _, _
g4 = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.ver == p.ver && r.act == p.act && (p.sub == "*" || g(r.sub, p.sub, r.ver)) && (p.dom == "*" || g2(r.dom, p.dom)) && (p.obj == "*" || g3(r.obj, p.obj)) && (p.aff == "*" || g4(r.aff, p.aff, r.ver)) && (p.perm == "*" || r.perm == p.perm) && (p.rcpt == "*" || g2(r.rcpt, p.rcpt)) && (p.meth == "*" || r.meth == p.meth)
"""

_SECTION_KEYS = {"request_definition": "r", "policy_definition": "p", "role_definition": "g",
                 "policy_effect": "e", "matchers": "m"}


# ---- the model file, read as pycasbin reads it ----------------------------------------------------

@dataclass(frozen=True)
class _Value:
    text: str
    line: int                              # the line of the key
    segments: tuple[tuple[int, int], ...]  # (offset in text, physical line) of each continued piece


ModelSections = dict[str, dict[str, _Value]]


def parse_model(text: str, file: str = "model.conf") -> ModelSections:
    """Sections of a Casbin model, read with pycasbin's rules, each value with its line(s).

    A repeated key or section, a line outside any section and a line without ``=`` are
    ``PolicyError`` (pycasbin would silently keep the last value or fail with a raw error).
    """
    sections: ModelSections = {}
    section: str | None = None
    buf: list[str] = []
    segs: list[tuple[int, int]] = []
    first = 0

    def flush() -> None:
        nonlocal first
        if not buf:
            return
        joined = "".join(buf)
        pieces = list(segs)
        buf.clear()
        segs.clear()
        if "=" not in joined:
            raise PolicyError(f"not a model line (no '='): {_short(joined)}", file=file, line=first)
        if section is None:
            raise PolicyError("a model line before the first [section]", file=file, line=first)
        key_raw, value = joined.split("=", 1)
        key = key_raw.strip()
        offset = len(key_raw) + 1 + len(value) - len(value.lstrip())
        shifted = tuple((max(0, o - offset), no) for o, no in pieces)
        if key in sections[section]:
            raise PolicyError(f"[{section}] {key} is defined twice (Casbin would silently use the last one; "
                              f"first at line {sections[section][key].line})", file=file, line=first)
        sections[section][key] = _Value(value.strip(), first, shifted)

    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            flush()
            continue
        if line[0] == "[" and line[-1] == "]":
            flush()
            section = line[1:-1]
            if section in sections:
                raise PolicyError(f"section [{section}] appears twice", file=file, line=no)
            sections[section] = {}
            continue
        if not buf:
            first = no
        piece = line[:-1].strip() + " " if line[-1] == "\\" else line
        segs.append((sum(len(b) for b in buf), no))
        buf.append(piece)
        if line[-1] != "\\":
            flush()
    flush()
    return sections


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---- tokenizer ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """One token of a Casbin expression: ``kind`` is name, string, number or op; strings are unquoted."""

    kind: str
    value: str
    pos: int

    def same(self, other: Token) -> bool:
        return self.kind == other.kind and self.value == other.value

    def __str__(self) -> str:
        return f'"{self.value}"' if self.kind == "string" else self.value


_OPS = ("==", "!=", "<=", ">=", "&&", "||", "!", "<", ">", "(", ")", "[", "]", ",", "+", "-", "*", "/", "%")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def tokenize(expr: str) -> list[Token]:
    """Tokens of a matcher or effect expression; ``ValueError`` naming the column of anything else.

    String literals take either quote and backslash escapes, as Casbin's evaluator does, so a
    quote inside the other kind of string cannot hide the code that follows it.
    """
    out: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c in "\"'":
            j, chars = i + 1, []
            while j < n and expr[j] != c:
                if expr[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(expr[j])
                j += 1
            if j >= n:
                raise ValueError(f"column {i + 1}: unterminated string literal")
            out.append(Token("string", "".join(chars), i))
            i = j + 1
            continue
        m = _NAME.match(expr, i)
        if m:
            out.append(Token("name", m.group(), i))
            i = m.end()
            continue
        m = _NUMBER.match(expr, i)
        if m:
            out.append(Token("number", m.group(), i))
            i = m.end()
            continue
        op = next((o for o in _OPS if expr.startswith(o, i)), None)
        if op is None:
            raise ValueError(f"column {i + 1}: unexpected character {c!r}")
        out.append(Token("op", op, i))
        i += len(op)
    return out


# ---- the family ---------------------------------------------------------------------------------

def _names(value: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in value.split(","))


@dataclass(frozen=True)
class ModelFamily:
    """What a model of the family says: sections, keys, token lists, effect and matcher tokens."""

    name: str
    text: str
    keys: dict[str, tuple[str, ...]]
    definitions: dict[str, tuple[str, ...]]
    expressions: dict[str, tuple[Token, ...]]

    @classmethod
    def from_text(cls, name: str, text: str) -> ModelFamily:
        """The family of a reference model text."""
        sections = parse_model(text, f"<{name} family>")
        keys = {sec: tuple(vals) for sec, vals in sections.items()}
        definitions: dict[str, tuple[str, ...]] = {}
        expressions: dict[str, tuple[Token, ...]] = {}
        for sec, vals in sections.items():
            for key, value in vals.items():
                if sec in ("policy_effect", "matchers"):
                    expressions[key] = tuple(tokenize(value.text))
                else:
                    definitions[key] = _names(value.text)
        return cls(name, text, keys, definitions, expressions)

    def arity(self) -> dict[str, int]:
        """Fields per policy type (p: the policy tokens; g*: the role definition's places)."""
        return {k: len(v) for k, v in self.definitions.items() if not k.startswith("r")}

    def functions(self) -> frozenset[str]:
        """Names called in the family's expressions (role functions, ``some``, ``where``)."""
        out: set[str] = set()
        for toks in self.expressions.values():
            out.update(a.value for a, b in zip(toks, toks[1:]) if a.kind == "name" and b.value == "(")
        return frozenset(out)


#: The pia_policy family (policies/model.conf).
FAMILY = ModelFamily.from_text("pia_policy", FAMILY_MODEL_TEXT)


def _line_of(value: _Value, pos: int) -> int:
    line = value.line
    for offset, no in value.segments:
        if offset <= pos:
            line = no
    return line


def _expression_problem(family: ModelFamily, key: str, value: _Value, file: str) -> PolicyError | None:
    if "#" in value.text:
        return PolicyError(f"{key} contains '#': Casbin drops everything after it, so the file does not say "
                           f"what Casbin evaluates; remove it", file=file, line=_line_of(value, value.text.index("#")))
    try:
        toks = tokenize(value.text)
    except ValueError as exc:
        return PolicyError(f"{key} cannot be read: {exc}", file=file, line=value.line)
    expected = family.expressions[key]
    known = family.functions() | {t.value for t in expected if t.kind == "name"}
    foreign = [t for t in toks if t.kind == "name" and t.value not in known]
    if foreign:
        t = foreign[0]
        return PolicyError(
            f"{key} uses {t.value}, which the {family.name} model family does not have "
            f"(only {', '.join(sorted(family.functions()))} and the r./p. fields); a changed matcher would be "
            f"decided differently by the compiled policy — express the change as policy lines",
            file=file, line=_line_of(value, t.pos))
    for i, exp in enumerate(expected):
        if i >= len(toks) or not toks[i].same(exp):
            found = toks[i] if i < len(toks) else None
            pos = found.pos if found is not None else len(value.text)
            return PolicyError(
                f"{key} is not the {family.name} model family's: at token {i + 1} expected {exp}, "
                f"found {found if found is not None else 'the end'} (the family's {key}: "
                f"{' '.join(str(t) for t in expected)})", file=file, line=_line_of(value, pos))
    if len(toks) > len(expected):
        extra = toks[len(expected)]
        return PolicyError(f"{key} goes on after the {family.name} model family's {key} ends: "
                           f"{' '.join(str(t) for t in toks[len(expected):len(expected) + 8])}",
                           file=file, line=_line_of(value, extra.pos))
    return None


def model_problems(text: str, file: str = "model.conf", family: ModelFamily = FAMILY) -> list[PolicyError]:
    """Every way the model text differs from the family (empty: in the family)."""
    try:
        sections = parse_model(text, file)
    except PolicyError as exc:
        return [exc]
    problems: list[PolicyError] = []
    for sec, values in sections.items():
        if sec not in family.keys:
            line = min((v.line for v in values.values()), default=None)
            problems.append(PolicyError(f"section [{sec}] is not part of the {family.name} model family "
                                        f"(sections: {', '.join(family.keys)})", file=file, line=line))
            continue
        wanted = family.keys[sec]
        for key, value in values.items():
            if key not in wanted:
                problems.append(PolicyError(f"[{sec}] {key} is not part of the {family.name} model family "
                                            f"(keys: {', '.join(wanted)})", file=file, line=value.line))
            elif sec in ("policy_effect", "matchers"):
                err = _expression_problem(family, key, value, file)
                if err is not None:
                    problems.append(err)
            else:
                names = _names(value.text)
                if names != family.definitions[key]:
                    problems.append(PolicyError(
                        f"{key} = {value.text} is not the {family.name} model family's "
                        f"{key} = {', '.join(family.definitions[key])} (the same tokens in the same order)",
                        file=file, line=value.line))
        for key in wanted:
            if key not in values:
                problems.append(PolicyError(f"[{sec}] has no {key} (the {family.name} model family: "
                                            f"{key} = {', '.join(family.definitions.get(key, ())) or '…'})",
                                            file=file, line=None))
    for sec, keys in family.keys.items():  # after the problems that have a line
        if sec not in sections:
            problems.append(PolicyError(f"model has no [{sec}] section (the {family.name} family needs "
                                        f"{', '.join(keys)})", file=file))
    if not problems:
        problems.extend(_cross_check(text, file, family))
    return problems


def _casbin_view(text: str) -> dict[str, Any]:
    m = Model()
    m.load_model_from_text(text)
    out: dict[str, Any] = {}
    for sec in m.keys():
        for key, ast in m[sec].items():
            out[f"{sec}.{key}"] = (tuple(ast.tokens or ()), tuple(tokenize(ast.value)) if sec in ("e", "m") else ast.value)
    return {k: (v[0], tuple((t.kind, t.value) for t in v[1]) if isinstance(v[1], tuple) else v[1].replace(" ", ""))
            for k, v in out.items()}


def _cross_check(text: str, file: str, family: ModelFamily) -> list[PolicyError]:
    """pycasbin's own reading of the text must equal its reading of the family's model."""
    try:
        mine = _casbin_view(text)
    except Exception as exc:  # pycasbin raises RuntimeError/IndexError/...: report, never leak a raw error
        return [PolicyError(f"Casbin cannot read the model: {type(exc).__name__}: {exc}", file=file)]
    if mine != _casbin_view(family.text):
        return [PolicyError(f"Casbin reads this model differently from the {family.name} model family", file=file)]
    return []


def check_model(text: str, file: str = "model.conf", family: ModelFamily = FAMILY) -> ModelSections:
    """The model's sections, or the first ``PolicyError`` when it is not in the family."""
    problems = model_problems(text, file, family)
    if problems:
        raise problems[0]
    return parse_model(text, file)
