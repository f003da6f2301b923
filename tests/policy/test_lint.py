"""`lint`: each problem kind on a broken copy of the shipped policy, with file and line; clean otherwise."""

from __future__ import annotations

from pathlib import Path

from pia_policy.policy import lint


def _codes(path: Path) -> dict[str, list[tuple[str, int | None]]]:
    out: dict[str, list[tuple[str, int | None]]] = {}
    for p in lint(path):
        out.setdefault(p.code, []).append((Path(p.file).name, p.line))
    return out


def _append(path: Path, name: str, text: str) -> int:
    f = path / name
    existing = f.read_text(encoding="utf-8") if f.exists() else ""
    f.write_text(existing + text, encoding="utf-8")
    return len((existing + text).splitlines())


def test_shipped_policy_is_clean(policy_copy: Path) -> None:
    assert lint() == []
    assert lint(policy_copy) == []


def test_unknown_department(policy_copy: Path) -> None:
    n = _append(policy_copy, "groups.csv", "g2,税務課,grp:bessi1-1\n")
    codes = _codes(policy_copy)
    assert codes.pop("unknown_department") == [("groups.csv", n)]
    # and the exhaustive invariant: 税務課 now receives 別紙1 No.1 through the recipient lines
    assert set(codes) == {"transfer_outside_bessi1"} and all(f == "policy.csv" for f, _ in codes["transfer_outside_bessi1"])


def test_unknown_ward_department(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv", "p,*,各区税務課,grp:transfer_info,view,gaikokujin_hogo,2025-03-24,*,*,*,bessi1-1-recipient\n")
    assert ("policy.csv", n) in _codes(policy_copy)["unknown_department"]


def test_unknown_purpose(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv",
                "p,kouki_staff,grp:holder,grp:transfer_info,transfer,kodomo_iryohi,2025-03-24,*,grp:bessi1-3,fukushi_system,bessi1-3-transfer\n")
    codes = _codes(policy_copy)
    assert codes["unknown_purpose"] == [("policy.csv", n)]
    # the line exists only in 2025-03-24: 2025-11-26 changes the III-5 item, a 重要な変更 (pia-policy changes)
    assert set(codes) == {"unknown_purpose", "important_change_without_reason"}


def test_transfer_line_without_bessi1_citation(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv",
                "p,kouki_staff,grp:holder,grp:transfer_info,transfer,gaikokujin_hogo,2025-03-24,*,grp:bessi1-1,fukushi_system,extra-transfer\n")
    _append(policy_copy, "metadata.toml", '\n[lines.extra-transfer]\ncitation = "別添3 III-5 リスク2"\n')
    assert _codes(policy_copy) == {"transfer_without_bessi1": [("policy.csv", n)]}
    # near miss: the same line citing 別紙1 is clean
    meta = policy_copy / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('citation = "別添3 III-5 リスク2"\n',
                                                             'citation = "別紙1 No.1"\n'), encoding="utf-8")
    assert lint(policy_copy) == []


def test_missing_citation(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv", "p,kouki_staff,grp:holder,kihon_joho,view,kouki-02,2020,*,*,*,no-such-id\n")
    assert _codes(policy_copy) == {"missing_citation": [("policy.csv", n)]}


def test_overlapping_and_gapped_versions(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text.replace('in_force_to = "2025-03-24"', 'in_force_to = "2025-04-01"', 1), encoding="utf-8")
    codes = _codes(policy_copy)
    assert list(codes) == ["version_overlap"]
    assert codes["version_overlap"][0][0] == "metadata.toml" and codes["version_overlap"][0][1]
    meta.write_text(text.replace('in_force_to = "2025-11-26"', 'in_force_to = "2025-11-20"', 1), encoding="utf-8")
    assert list(_codes(policy_copy)) == ["version_gap"]


def test_my_number_granted_outside_affairs(policy_copy: Path) -> None:
    n = _append(policy_copy, "groups.csv", "g4,kouki-15,grp:my_number_affairs,2025-11-26\n")
    codes = _codes(policy_copy)
    assert set(codes) == {"my_number_outside_affairs"}
    assert all(f == "policy.csv" for f, _ in codes["my_number_outside_affairs"])
    # the direct way too
    n = _append(policy_copy, "policy.csv", "p,my_number_user,grp:holder,kojin_bango,view,kouki-02,2020,*,*,*,my-number-view\n")
    assert ("policy.csv", n) in _codes(policy_copy)["my_number_outside_affairs"]


def test_matcher_function_outside_the_family(policy_copy: Path) -> None:
    model = policy_copy / "model.conf"
    lines = model.read_text(encoding="utf-8").splitlines()
    idx = next(i for i, line in enumerate(lines) if line.startswith("m = "))
    lines[idx] = lines[idx] + ' && eval(p.sub)'
    model.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _codes(policy_copy) == {"model_family": [("model.conf", idx + 1)]}


def test_invalid_csv_reported_and_rest_still_checked(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv", 'p,"unterminated\n')
    m = _append(policy_copy, "groups.csv", "g2,税務課,grp:bessi1-1\n")
    codes = _codes(policy_copy)
    assert codes["invalid_csv"] == [("policy.csv", n)]
    assert codes["unknown_department"] == [("groups.csv", m)]


def test_wildcard_affair(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv", "p,kouki_staff,grp:holder,kihon_joho,view,*,2020,*,*,*,staff-view\n")
    assert _codes(policy_copy) == {"wildcard_affair": [("policy.csv", n)]}


def test_version_without_my_number_affairs(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    text = meta.read_text(encoding="utf-8")
    lines = text.splitlines()
    idx = max(i for i, line in enumerate(lines) if line.startswith("my_number_affairs"))
    del lines[idx]
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    codes = _codes(policy_copy)
    assert list(codes) == ["missing_my_number_affairs"]
    assert codes["missing_my_number_affairs"][0][0] == "metadata.toml"
