"""Department names of SPEC §2.1: wards, holder departments and the 各区X課 expansion."""

from __future__ import annotations

__all__ = [
    "WARDS",
    "DEFAULT_HOLDER_DEPARTMENTS",
    "expand_department",
    "is_ward_group",
    "is_group_name",
    "GROUP_PREFIX",
    "WARD_GROUP_PREFIX",
]

#: The six wards of Chiba City (千葉市), in the city's official order.
WARDS: tuple[str, ...] = ("中央区", "花見川区", "稲毛区", "若葉区", "緑区", "美浜区")

#: Prefix of a 「各区X課」 group name.
WARD_GROUP_PREFIX = "各区"
_WARD_PREFIX = WARD_GROUP_PREFIX
#: Prefix of the policy's own group names (grp:holder, grp:bessi1-1, ...).
GROUP_PREFIX = "grp:"

#: Holder departments (SPEC §2.1): the source names none; this default is configurable.
DEFAULT_HOLDER_DEPARTMENTS: tuple[str, ...] = ("健康保険課",) + tuple(
    f"{w}市民総合窓口課" for w in WARDS
)


def is_ward_group(name: str) -> bool:
    """True for a 「各区X課」 group name."""
    return name.startswith(_WARD_PREFIX) and len(name) > len(_WARD_PREFIX)


def expand_department(name: str) -> tuple[str, ...]:
    """Expand 「各区X課」 to the six 「<区名>X課」; any other name stands for itself."""
    if is_ward_group(name):
        suffix = name[len(_WARD_PREFIX):]
        return tuple(f"{w}{suffix}" for w in WARDS)
    return (name,)


def is_group_name(name: str) -> bool:
    """True for a name that stands for several departments (「各区X課」, ``grp:…``): never a
    department of an account, a personnel event, a terminal or a transfer (SPEC §4 readings)."""
    return is_ward_group(name) or name.startswith(GROUP_PREFIX)
