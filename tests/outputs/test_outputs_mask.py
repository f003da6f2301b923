"""My Number masking (SPEC §5): valid check digits masked, everything else left alone."""

from __future__ import annotations

import io
import json
import re

import pytest
import structlog
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pia_policy.outputs import check_digit, is_valid_my_number, mask_my_number, mask_processor, mask_value

WIDE = str.maketrans("0123456789", "０１２３４５６７８９")
TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")
SEPARATORS = [" ", "\u3000", "-", "\uff0d", "\u2010", "\u2212", "\u30fc"]
DIGIT_CHARS = set("0123456789０１２３４５６７８９")

eleven = st.text(alphabet="0123456789", min_size=11, max_size=11)
filler = st.text(alphabet=st.characters(blacklist_characters="0123456789０１２３４５６７８９",
                                        blacklist_categories=("Cs",)), max_size=8)


def reference_remainder(first11: str) -> int:
    """Straight from the ordinance text: (Σ Pn × Qn) mod 11, Pn the n-th digit from the right,
    Qn = n+1 (n ≤ 6), n−5 (n ≥ 7)."""
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    return total % 11


def reference_check_digit(first11: str) -> int:
    rest = reference_remainder(first11)
    return 0 if rest <= 1 else 11 - rest


def valid(first11: str) -> str:
    return first11 + str(reference_check_digit(first11))


def invalid(first11: str) -> str:
    good = reference_check_digit(first11)
    return first11 + str((good + 1) % 10)


def render(number: str, *, wide: bool, seps: tuple[str, str] | None) -> str:
    text = number.translate(WIDE) if wide else number
    if seps is None:
        return text
    return text[:4] + seps[0] + text[4:8] + seps[1] + text[8:]


def digits_only(text: str) -> str:
    return "".join(c for c in text.translate(TO_ASCII) if c.isdigit())


# --- the check digit ----------------------------------------------------------------------------

def test_known_numbers() -> None:
    # 123456789018 is the sample number used in the government's own examples.
    assert check_digit("12345678901") == 8
    assert is_valid_my_number("123456789018")
    assert not is_valid_my_number("123456789017")
    assert not is_valid_my_number("12345678901")  # 11 digits
    assert not is_valid_my_number("1234567890188")  # 13 digits


def test_remainder_zero_and_one_give_check_digit_zero() -> None:
    # rest 0: all zeros; rest 1: find one by search and check the rule, not a hard-coded value.
    assert check_digit("00000000000") == 0
    found = {0: False, 1: False}
    for i in range(2000):
        first = f"{i:011d}"
        rest = reference_remainder(first)
        if rest in found:
            found[rest] = True
            assert check_digit(first) == 0
    assert all(found.values())


@given(eleven)
def test_check_digit_matches_reference(first11: str) -> None:
    assert check_digit(first11) == reference_check_digit(first11)
    assert check_digit(first11.translate(WIDE)) == reference_check_digit(first11)


# --- masking ------------------------------------------------------------------------------------

@given(
    eleven,
    st.booleans(),
    st.one_of(st.none(), st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(SEPARATORS))),
    filler,
    filler,
)
def test_valid_numbers_are_masked(first11: str, wide: bool, seps: tuple[str, str] | None, before: str, after: str) -> None:
    number = valid(first11)
    shown = render(number, wide=wide, seps=seps)
    text = before + shown + after
    masked = mask_my_number(text)
    assert number not in digits_only(masked)
    assert len(masked) == len(text)
    assert masked.startswith(before) and masked.endswith(after)
    middle = masked[len(before): len(before) + len(shown)]
    # first 8 digits starred, separators and the last 4 digits kept
    assert middle.count("*") == 8
    assert middle[-4:] == shown[-4:]
    if seps is not None:
        assert middle[4] == seps[0] and middle[9] == seps[1]
    assert mask_my_number(masked) == masked  # idempotent


@given(
    eleven,
    st.booleans(),
    st.one_of(st.none(), st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(SEPARATORS))),
    filler,
    filler,
)
def test_invalid_check_digit_is_left_alone(first11: str, wide: bool, seps: tuple[str, str] | None,
                                           before: str, after: str) -> None:
    text = before + render(invalid(first11), wide=wide, seps=seps) + after
    assert mask_my_number(text) == text


@given(eleven, st.text(alphabet="0123456789０１２３４５６７８９", min_size=1, max_size=3), st.booleans())
def test_touching_other_digits_is_left_alone(first11: str, extra: str, extra_before: bool) -> None:
    number = valid(first11)
    text = extra + number if extra_before else number + extra
    # the longer run may itself contain a valid 12-digit window, but no window touching a digit is masked
    assert mask_my_number(text) == text


@given(eleven)
def test_eleven_digits_never_masked(first11: str) -> None:
    assert mask_my_number(first11) == first11
    assert mask_my_number(f"ID:{first11}。") == f"ID:{first11}。"


def test_fixed_examples() -> None:
    assert mask_my_number("番号123456789018です") == "番号********9018です"
    assert mask_my_number("１２３４ ５６７８ ９０１８") == "**** **** ９０１８"
    assert mask_my_number("1234－5678－9018") == "****－****－9018"
    assert mask_my_number("1234-5678 9018") == "****-**** 9018"
    assert mask_my_number("a123456789018b") == "a********9018b"
    assert mask_my_number("1123456789018") == "1123456789018"  # 13 digits
    assert mask_my_number("123456789017") == "123456789017"  # bad check digit
    assert mask_my_number("1234--5678-9018") == "1234--5678-9018"  # not a 4-4-4 grouping
    assert mask_my_number("") == ""


def test_overlapping_groups_leave_no_valid_number() -> None:
    # The first 12 digits (invalid) hide a valid 4-4-4 number starting at the second group.
    tail = "5678901"
    first11 = "9018" + tail
    groups = f"1234 9018 {tail[:4]} {tail[4:]}{reference_check_digit(first11)}"
    masked = mask_my_number(groups)
    assert masked.startswith("1234 **** ****")
    # cutting a run can free a new candidate: it is masked too (fixpoint)
    d = reference_check_digit("90185678901")
    text = f"123456789018 5678 901{d}"
    masked = mask_my_number(text)
    assert not re.search(r"\d{4}[ ]\d{4}[ ]\d{4}", masked)
    assert not re.search(r"\d{12}", masked)


@given(st.text(alphabet="0123456789０１２３４５６７８９ -－　ab", max_size=60))
@settings(max_examples=300)
def test_no_valid_number_survives_anywhere(text: str) -> None:
    masked = mask_my_number(text)
    assert len(masked) == len(text)
    for i, (a, b) in enumerate(zip(text, masked)):
        assert a == b or (b == "*" and a in DIGIT_CHARS), (i, text, masked)
    # every window of the SPEC shapes left in the output that does not touch digits is invalid
    pattern = re.compile(r"(?<![0-9０-９])(?=([0-9０-９]{4}[ 　\-－]?[0-9０-９]{4}[ 　\-－]?[0-9０-９]{4})(?![0-9０-９]))")
    for m in pattern.finditer(masked):
        assert not is_valid_my_number(m.group(1)), (text, masked)


def test_mask_value_nested() -> None:
    value = {"123456789018": ["x 123456789018", ("123456789018",)], "n": 123456789018, "ok": None}
    out = mask_value(value)
    assert out == {"********9018": ["x ********9018", ["********9018"]], "n": "********9018", "ok": None}
    assert mask_value({"n": 123456789017, "m": 12, "b": True}) == {"n": 123456789017, "m": 12, "b": True}


def test_structlog_processor_masks_logs() -> None:
    stream = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(stream),
        processors=[structlog.processors.format_exc_info, mask_processor, structlog.processors.JSONRenderer()],
    )

    class Odd:
        def __str__(self) -> str:
            return "obj 1234-5678-9018"

    try:
        raise ValueError("bad line 123456789018")
    except ValueError:
        logger.error("rejected 123456789018", excerpt={"v": "１２３４５６７８９０１８"}, obj=Odd(), n=5, exc_info=True)
    line = stream.getvalue()
    record = json.loads(line)
    assert "123456789018" not in digits_only(line)
    assert record["event"] == "rejected ********9018"
    assert record["excerpt"]["v"] == "********９０１８"
    assert record["obj"] == "obj ****-****-9018"
    assert record["n"] == 5
    assert "ValueError: bad line ********9018" in record["exception"]


def test_processor_keeps_harmless_objects() -> None:
    marker = object()
    out = mask_processor(None, "info", {"event": "x", "o": marker, "i": 3})
    assert out["o"] is marker and out["i"] == 3


@pytest.mark.parametrize("text", ["電話 03-1234-5678", "2024-01-01T00:00:00", "account a0000123456789018"])
def test_near_misses_unchanged(text: str) -> None:
    # phone numbers, timestamps and a number glued to other digits are not My Numbers
    assert mask_my_number(text) == text


def test_every_space_separator_and_tab_groups_a_number() -> None:
    import unicodedata

    seps = ["\t"] + [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"]
    assert len(seps) == 18
    for sep in seps:
        assert mask_my_number(f"1234{sep}5678{sep}9018") == f"****{sep}****{sep}9018", repr(sep)
        assert mask_my_number(f"１２３４{sep}５６７８{sep}９０１７") == f"１２３４{sep}５６７８{sep}９０１７"  # check digit fails


def test_jsonl_masks_a_tab_grouped_number(tmp_path) -> None:
    from pia_policy.outputs._files import write_jsonl

    path = tmp_path / "r.jsonl"
    write_jsonl(path, [{"excerpt": "x 1234\t5678\t9018"}], mode=0o600, columns=("excerpt",), schema_version="1")
    text = path.read_text(encoding="utf-8")
    assert "5678" not in text and json.loads(text)["excerpt"] == "x ****\t****\t9018"


# ---- findings records: one scan of the whole record, value by value only when needed -----------

_PIECES = st.one_of(
    st.sampled_from(["123456789018", "1234 5678 9018", "1234\t5678\t9018", "１２３４５６７８９０１８", "1234\u00a05678\u30009018",
                     "123456789017", "12345678901", "\x01", "\\t", "\t", "-", " ", "健康保険課", "\u2028", '"']),
    st.text(alphabet="0123456789 \t-", max_size=14),
)
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**13, max_value=10**13),
                    st.sampled_from([123456789018, 123456789017]),
                    st.lists(_PIECES, max_size=4).map("".join))


@settings(max_examples=400)
@example({"detail": "1234\t5678\t9018"}, {}, [])  # a TAB-grouped number: escaped in the JSON scan
@example({}, {"1234 5678 9018": 1}, [{"file": "a", "line": 123456789018}])  # an extra key, a 12-digit line
@given(st.dictionaries(st.sampled_from(["rule", "account_id", "person_id", "department", "title", "detail"]),
                       _VALUES, max_size=6),
       st.dictionaries(st.lists(_PIECES, min_size=1, max_size=2).map("".join), _VALUES, max_size=2),
       st.lists(st.fixed_dictionaries({"file": st.lists(_PIECES, max_size=3).map("".join),
                                       "line": st.integers(min_value=1, max_value=10**12)}), max_size=2))
def test_finding_record_masked_as_every_value_would_be(columns: dict, extras: dict, evidence: list) -> None:
    from pia_policy.outputs._files import FINDING_COLUMNS
    from pia_policy.outputs._write import _finding_dict

    record = {**columns, **{k: v for k, v in extras.items() if k not in FINDING_COLUMNS}, "evidence": evidence}
    got = _finding_dict(record)
    # the reference: every value (and every extra key) masked one by one
    expected = {c: mask_value(record.get(c)) for c in FINDING_COLUMNS}
    expected.update({mask_my_number(k): mask_value(record[k]) for k in sorted(record) if k not in FINDING_COLUMNS})
    assert got == expected
    assert list(got) == list(expected)
    assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
