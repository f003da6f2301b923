"""Shared builders (imported by name; not a conftest, to avoid clashes with other test dirs) for the outputs tests: real Finding objects and rejected rows."""

from __future__ import annotations

from collections.abc import Iterator

from pia_policy.models import Evidence, Finding


def make_finding(i: int, **over: object) -> Finding:
    data: dict[str, object] = {
        "schema_version": "1.0",
        "finding_id": f"{i:016x}",
        "rule": "ACCESS_AFTER_REVOCATION",
        "severity": "high",
        "account_id": f"acc{i:04d}",
        "person_id": f"p{i:04d}",
        "department": "介護保険課",
        "system": "fukushi",
        "first_ts": "2026-04-01T00:00:00",
        "last_ts": "2026-04-01T01:00:00",
        "event_count": i + 1,
        "evidence": [Evidence(file="events/a.jsonl", line=i + 1, event_id=f"e{i}"),
                     Evidence(file="events/b.jsonl", line=2 * i + 7, event_id=None)],
        "basis": "番号法第19条",
        "action": "当該IDを失効させる",
    }
    data.update(over)
    return Finding(**data)  # type: ignore[arg-type]


def rejected_rows(n: int, *, prefix: str = "row") -> Iterator[dict[str, object]]:
    for i in range(n):
        yield {"file": "events/a.jsonl", "line": i + 1, "reason": "invalid_json", "field": None,
               "detail": f"{prefix} {i}", "excerpt": f'{{"x": "{prefix}-{i}"'}
