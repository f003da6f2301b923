"""Fixtures of the example-city tests: one generated city per session (real files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from examples_helpers import load_generator, read_events

#: The city the audit tests run on: small (seconds), spanning 2025-03-24 and April 1.
CITY_ARGS = {"seed": 11, "events": 20000, "days": 16}


@pytest.fixture(scope="session")
def gen() -> Any:
    return load_generator()


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory, gen: Any) -> tuple[Path, dict[str, Any]]:
    """(data directory, truth) of the default generated city."""
    base = tmp_path_factory.mktemp("city")
    data = base / "city"
    gen.generate(CITY_ARGS["seed"], CITY_ARGS["events"], CITY_ARGS["days"], data, jobs=2)
    truth = json.loads((base / "city_truth.json").read_text(encoding="utf-8"))
    return data, truth


@pytest.fixture(scope="session")
def city_events(city: tuple[Path, dict[str, Any]]) -> list[dict[str, Any]]:
    return read_events(city[0])
