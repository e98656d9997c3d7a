"""The eTOM process registry (checklist A1): every 1.3.7 process of research/etom.md §1.1 with identifier,
current name, seed name, level and parent; names (either era) and ITIL candidates resolve to identifiers."""

from __future__ import annotations

import pytest

from troubleflow.domain import etom

L4_COUNTS = {"1.3.7.1": 9, "1.3.7.2": 6, "1.3.7.3": 5, "1.3.7.4": 5, "1.3.7.5": 3, "1.3.7.6": 7}


def test_the_registry_holds_every_customer_problem_management_process_with_its_parent_and_level() -> None:
    for l3, count in L4_COUNTS.items():
        assert etom.REGISTRY[l3].level == 3 and etom.REGISTRY[l3].parent == "1.3.7"
        l4s = [p for p in etom.REGISTRY.values() if p.parent == l3]
        assert [p.id for p in l4s] == [f"{l3}.{i}" for i in range(1, count + 1)]
        assert {p.level for p in l4s} == {4}


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("Escalate/End Customer Problem", "1.3.7.3.3"),  # the seed (Frameworx 16) name
        ("Escalate Customer Problem", "1.3.7.3.3"),  # the current name
        ("Track & Manage Customer Problem", "1.3.7.3"),
        ("Correct & Recover Customer Problem", "1.3.7.6"),
        ("Check Known Error", "1.3.7.1.6"),  # ITIL candidates land where troubleflow records them
        ("Perform Initial Diagnosis", "1.3.7.1.5"),
        ("Monitor Resolution Update", "1.3.7.3.1"),
    ],
)
def test_a_process_is_found_by_either_eras_name_or_an_itil_candidates_name(
    name: str, identifier: str
) -> None:
    assert etom.by_name(name).id == identifier


def test_every_identifier_the_code_records_is_in_the_registry() -> None:
    recorded = {v for k, v in vars(etom).items() if k.isupper() and isinstance(v, str)}
    assert recorded <= set(etom.REGISTRY)
    assert {c.lands_in for c in etom.ITIL_CANDIDATES} <= set(etom.REGISTRY)
