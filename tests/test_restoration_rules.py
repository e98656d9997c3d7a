"""The pure rules of Correct & Recover Customer Problem (1.3.7.6, domain/restoration.py) and the policy's
`restoration:` section: no database, no server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from troubleflow.domain import restoration as rs
from troubleflow.domain.policy import RestorationRules
from troubleflow.errors import Conflict, InvalidInput, InvalidTransition
from troubleflow.policy_files import default_policy_dir, load_policies

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _record(seq: int, kind: rs.Kind, outcome: str) -> rs.Record:
    return rs.Record("T1", str(seq), kind, outcome, "x", "agent", NOW)


def test_an_action_has_exactly_one_known_outcome() -> None:
    assert rs.parse_action({"outcome": "restored", "description": "ok"}).outcome is rs.Outcome.RESTORED
    for bad in ("fixed", ["restored", "restorationFailed"], None, {"outcome": "restored"}):
        with pytest.raises(InvalidInput) as caught:
            rs.parse_action({"outcome": bad, "description": "ok"})
        assert caught.value.field == "outcome"


def test_an_action_without_a_reason_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        rs.parse_action({"outcome": "restorationFailed", "description": " "})
    assert caught.value.field == "description"


def test_customer_education_needs_guidance_and_restores() -> None:
    with pytest.raises(InvalidInput):
        rs.parse_action({"outcome": "restored", "description": "x", "resolution_type": "customerEducation"})
    with pytest.raises(InvalidInput):
        rs.parse_action(
            {
                "outcome": "restorationFailed",
                "description": "x",
                "resolution_type": "customerEducation",
                "guidance": "press the button",
            }
        )


def test_clearing_is_refused_while_a_product_order_is_open() -> None:
    with pytest.raises(Conflict, match="product order request 7"):
        rs.check_clearable([], ["7"], RestorationRules())
    rs.check_clearable([], [], RestorationRules())


def test_validation_counts_only_after_the_latest_successful_action() -> None:
    rules = RestorationRules(validate_before_clear=True)
    passed_then_failed_again = [
        _record(1, rs.Kind.ACTION, "restored"),
        _record(2, rs.Kind.VALIDATION, "passed"),
        _record(3, rs.Kind.ACTION, "restorationFailed"),
    ]
    with pytest.raises(Conflict):
        rs.check_clearable(passed_then_failed_again, [], rules)
    restored_again = [*passed_then_failed_again, _record(4, rs.Kind.ACTION, "restoredByWorkaround")]
    with pytest.raises(Conflict):
        rs.check_clearable(restored_again, [], rules)
    rs.check_clearable([*restored_again, _record(5, rs.Kind.VALIDATION, "passed")], [], rules)
    with pytest.raises(Conflict):
        rs.check_clearable([*restored_again, _record(5, rs.Kind.VALIDATION, "failed")], [], rules)


def test_major_problems_come_from_the_policy() -> None:
    rules = RestorationRules(
        major_priorities=("P1",), major_severities=("Critical",), major_outage_masters=True
    )
    assert rs.is_major(rules, "P1", "Minor", False)
    assert rs.is_major(rules, "P3", "critical", False)
    assert rs.is_major(rules, "P3", "Minor", True)
    assert not rs.is_major(rules, "P2", "Major", False)
    assert not rs.is_major(RestorationRules(), "P1", "Critical", True)


def test_a_major_problem_closes_only_after_its_review() -> None:
    with pytest.raises(Conflict, match="majorProblemReview"):
        rs.check_closable([], True)
    rs.check_closable([_record(1, rs.Kind.REVIEW, "reviewed")], True)
    rs.check_closable([], False)


def test_items_move_forward_only() -> None:
    rs.check_item_move(rs.ItemState.OPEN, rs.ItemState.COMPLETED)
    with pytest.raises(InvalidTransition):
        rs.check_item_move(rs.ItemState.COMPLETED, rs.ItemState.OPEN)


def test_a_process_request_targets_another_crm_process() -> None:
    assert rs.check_target_process("1.3.5.4") == "1.3.5.4"
    for bad in ("9.9", "1.3.7.3.1", "1.3.x", 13):
        with pytest.raises(InvalidInput):
            rs.check_target_process(bad)


def test_the_restoration_policy_names_known_priorities_and_skills(tmp_path: Path) -> None:
    doc = yaml.safe_load(default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8"))
    doc["restoration"]["major_problem"]["priorities"] = ["P9"]
    doc["restoration"]["replan_skill"] = "juggling"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_policies(tmp_path)
    assert "restoration.major_problem.priorities[0]" in str(caught.value)
    assert "restoration.replan_skill" in str(caught.value)


def test_the_default_policy_names_no_major_problem_and_does_not_require_validation() -> None:
    rules = load_policies(None)[0].restoration
    assert not rules.validate_before_clear and not rules.major_priorities and not rules.major_outage_masters
