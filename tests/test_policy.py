"""The operator's policy: the default loads, every broken rule is named with file and path, lookups answer
what the processes ask (priority, restoration target, escalation, diagnosis rules, validity), and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from troubleflow.cli import main
from troubleflow.domain.policy import (
    Policy,
    WeeklyInterval,
    active_policy,
    calendar_for,
    escalation_for,
    matching_rules,
    priority_for,
    progress_interval,
    restoration_target,
    tasks_for,
    workgroups_with_skill,
)
from troubleflow.errors import InvalidInput
from troubleflow.policy_files import default_policy_dir, load_policies
from troubleflow.policy_schema import iso_duration

Raw = dict[str, Any]


def default_raw() -> Raw:
    text = default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert isinstance(raw, dict)
    return raw


def write(folder: Path, raw: Raw | str, name: str = "default.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def problems(location: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load_policies(location)
    header, *lines = caught.value.message.splitlines()
    assert header.startswith("the policy has")
    return [line.strip() for line in lines]


@pytest.fixture(scope="module")
def policy() -> Policy:
    (only,) = load_policies()
    return only


# --- the default policy ---------------------------------------------------------------------------


def test_default_policy_loads_and_passes(policy: Policy) -> None:
    assert policy.version == "2026.1"
    assert policy.valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    assert {s.id for s in policy.sla_classes} == {"gold", "silver", "bronze"}
    assert {c.id for c in policy.calendars} >= {"24x7", "office-de"}
    assert policy.jeopardy_thresholds == (50, 75, 90, 100)
    assert {"service-desk", "access-network", "core-network", "partner-management"} <= {
        w.id for w in policy.workgroups
    }
    assert load_policies("") == load_policies(None) == (policy,)


def test_default_office_calendar_is_weekdays_8_to_18_berlin_with_german_holidays(policy: Policy) -> None:
    office = calendar_for(policy, "silver")
    assert office.id == "office-de" and office.timezone == "Europe/Berlin" and office.holiday_country == "DE"
    assert office.weekly_hours == tuple(WeeklyInterval(day, time(8), time(18)) for day in range(5))


def test_whole_day_is_written_24_00_and_held_as_midnight_end(policy: Policy) -> None:
    always = calendar_for(policy, "gold")
    assert always.weekly_hours == tuple(WeeklyInterval(day, time(0), time(0)) for day in range(7))


# --- validation: every rule, named with file and path -----------------------------------------------


def _set(path: str, value: Any) -> Callable[[Raw], None]:
    """A mutation of the default policy: `path` like `escalation.2.notify`."""

    def mutate(raw: Raw) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


BROKEN = [
    ("escalation.2.notify", "noc-pager", "escalation[2].notify: unknown notification list 'noc-pager'"),
    ("escalation.0.priority", "P9", "escalation[0].priority: unknown priority 'P9'"),
    ("escalation.1.workgroup", "nobody", "escalation[1].workgroup: unknown workgroup 'nobody'"),
    ("sla_classes.1.calendar", "office-fr", "sla_classes[1].calendar: unknown calendar 'office-fr'"),
    ("defaults.sla_class", "platinum", "defaults.sla_class: unknown SLA class 'platinum'"),
    ("defaults.category", "misc", "defaults.category: unknown category 'misc'"),
    ("workgroups.0.skills", ["juggling"], "workgroups[0].skills[0]: unknown skill 'juggling'"),
    ("workgroups.0.calendar", "never", "workgroups[0].calendar: unknown calendar 'never'"),
    (
        "categories.1.tasks.1.workgroup",
        "ghosts",
        "categories[1].tasks[1].workgroup: unknown workgroup 'ghosts'",
    ),
    ("categories.1.tasks.0.skill", "magic", "categories[1].tasks[0].skill: unknown skill 'magic'"),
    (
        "categories.1.tasks.1.depends_on",
        ["line-tset"],
        "categories[1].tasks[1].depends_on[0]: unknown task 'line-tset' in category 'access-fault'",
    ),
    (
        "diagnosis_rules.1.then.category",
        "outage",
        "diagnosis_rules[1].then.category: unknown category 'outage'",
    ),
    ("priority_matrix.high.high", "P0", "priority_matrix.high.high: unknown priority 'P0'"),
    ("progress_updates.P5", "PT1H", "progress_updates.P5: unknown priority 'P5'"),
    ("sla_classes.0.restoration.P9", "PT1H", "sla_classes[0].restoration.P9: unknown priority 'P9'"),
    (
        "sla_classes.0.response.P1",
        "PT5H",
        "sla_classes[0].response.P1: the response target is longer than the restoration target",
    ),
    (
        "escalation.1.threshold",
        60,
        "escalation[1].threshold: 60 is not a jeopardy threshold (50, 75, 90, 100)",
    ),
    ("escalation.1.level", 4, "escalation[1].level: Input should be less than or equal to 3, not 4"),
    (
        "escalation.3.level",
        1,
        "escalation[3].level: level 1 at 100% is below level 2 at 75% for P1: escalation never lowers",
    ),
    (
        "calendars.1.timezone",
        "Europe/Berln",
        "calendars[1].timezone: unknown IANA time zone 'Europe/Berln' (e.g. Europe/Berlin, UTC)",
    ),
    (
        "calendars.1.holidays",
        {"country": "XX"},
        "calendars[1].holidays: unknown holiday country 'XX' (ISO 3166 code, e.g. DE)",
    ),
    (
        "calendars.1.holidays",
        {"country": "DE", "subdivision": "ZZ"},
        "calendars[1].holidays: unknown subdivision 'ZZ' of DE",
    ),
    (
        "calendars.1.hours",
        {"mon-fri": "08:00-25:00"},
        "calendars[1].hours.mon-fri[0]: '08:00-25:00' is not a time of day (00:00 to 24:00)",
    ),
    (
        "calendars.1.hours",
        {"mon-fri": ["08:00-12:00", "11:00-18:00"]},
        "calendars[1]: hours: working intervals on mon overlap",
    ),
    (
        "calendars.1.hours",
        {"fri-mon": "08:00-18:00"},
        "calendars[1].hours.fri-mon (key): days are one of mon, tue, wed, thu, fri, sat, sun or a range like "
        "mon-fri, not 'fri-mon'",
    ),
    ("skills.1.id", "first-line", "skills[1].id: duplicate id 'first-line'"),
    ("workgroups.1.id", "service-desk", "workgroups[1].id: duplicate id 'service-desk'"),
    ("categories.1.tasks.2.id", "line-test", "categories[1].tasks[2].id: duplicate id 'line-test'"),
    (
        "diagnosis_rules.1.when.colour",
        "red",
        "diagnosis_rules[1].when.colour (key): a rule field is one of ticketType, name, description, "
        "severity, channel, productCategory, productOffering, region, slaClass, not 'colour'",
    ),
    (
        "diagnosis_rules.2.when.description",
        {"regex": "(unclosed"},
        "diagnosis_rules[2].when.description.regex: invalid regular expression '(unclosed': "
        "missing ), unterminated subpattern at position 0",
    ),
    (
        "diagnosis_rules.6.then.false_report",
        "spam",
        "diagnosis_rules[6].then: a false report is not resolved at first contact: set only one of the two",
    ),
    (
        "notification_lists.0.recipients.0.channel",
        "sms",
        "notification_lists[0].recipients[0].channel: Input should be 'webhook' or 'email', not 'sms'",
    ),
    (
        "notification_lists.1.recipients.0.address",
        "duty at operator",
        "notification_lists[1].recipients[0]: 'duty at operator' is not an e-mail address",
    ),
    (
        "escalation.0.role",
        None,
        "escalation[0]: an escalation names a workgroup (functional), a role (hierarchical) or both",
    ),
    (
        "categories.0.tasks.0.skill",
        "first-line",
        "categories[0].tasks[0]: a task names a workgroup or a skill (exactly one of them)",
    ),
    (
        "close.auto_close_after",
        "5 days",
        "close.auto_close_after: a duration is ISO 8601 (PT4H, PT30S, P5D) or whole seconds, not '5 days'",
    ),
    ("close.auto_close_after", 0, "close.auto_close_after: a duration must be longer than zero"),
    (
        "valid_from",
        "2026-01-01T00:00:00",
        "valid_from: valid_from needs a timezone, e.g. 2026-01-01T00:00:00Z (a bare date means UTC)",
    ),
    ("version", 2026.1, 'version: quote the version, e.g. version: "2026.1" (YAML read it as a number)'),
    ("escalations", [], "escalations: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("path", "value", "expected"), BROKEN, ids=[b[2].split(":")[0] for b in BROKEN])
def test_each_broken_rule_is_reported_with_file_and_path(
    tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    raw = default_raw()
    _set(path, value)(raw)

    assert f"default.yaml: {expected}" in problems(write(tmp_path, raw))


def test_task_dependencies_must_not_form_a_cycle(tmp_path: Path) -> None:
    raw = default_raw()
    raw["categories"][1]["tasks"][0]["depends_on"] = ["verify"]  # line-test needs verify needs isolate ...

    assert problems(write(tmp_path, raw)) == [
        "default.yaml: categories[1].tasks: the tasks depend on each other in a cycle: "
        "line-test needs verify needs isolate needs line-test"
    ]


def test_priority_matrix_must_cover_every_impact_and_urgency(tmp_path: Path) -> None:
    raw = default_raw()
    del raw["priority_matrix"]["low"]["medium"]
    del raw["priority_matrix"]["medium"]

    assert problems(write(tmp_path, raw)) == [
        "default.yaml: priority_matrix: no row for impact 'medium'",
        "default.yaml: priority_matrix.low: no priority for urgency 'medium'",
    ]


def test_jeopardy_thresholds_rise_strictly_within_1_to_100(tmp_path: Path) -> None:
    raw = default_raw()
    raw["jeopardy_thresholds"] = [0, 50, 120]
    assert problems(write(tmp_path / "a", raw)) == [
        "default.yaml: jeopardy_thresholds[0]: Input should be greater than or equal to 1, not 0",
        "default.yaml: jeopardy_thresholds[2]: Input should be less than or equal to 100, not 120",
    ]
    raw["jeopardy_thresholds"] = [50, 75, 75, 100]
    assert "default.yaml: jeopardy_thresholds[2]: thresholds rise strictly: 75 comes after 75" in problems(
        write(tmp_path / "b", raw)
    )


def test_every_priority_needs_a_restoration_target_and_a_progress_interval(tmp_path: Path) -> None:
    raw = default_raw()
    del raw["sla_classes"][2]["restoration"]["P4"]
    del raw["progress_updates"]["P4"]

    assert problems(write(tmp_path, raw)) == [
        "default.yaml: progress_updates: no entry for priority 'P4' (null: no updates)",
        "default.yaml: sla_classes[2].restoration: no entry for priority 'P4'",
    ]


def test_a_task_skill_nobody_offers_is_refused(tmp_path: Path) -> None:
    raw = default_raw()
    raw["workgroups"] = [w for w in raw["workgroups"] if w["id"] != "billing-support"]
    raw["diagnosis_rules"] = [r for r in raw["diagnosis_rules"] if r["id"] != "bill-dispute"]
    raw["categories"][5]["tasks"][0] = {"id": "review-bill", "skill": "billing", "expected_duration": "PT4H"}

    assert problems(write(tmp_path, raw)) == [
        "default.yaml: categories[5].tasks[0].skill: no workgroup has skill 'billing'"
    ]


def test_every_structural_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    raw = default_raw()
    raw["version"] = 7
    raw["calendars"][0]["timezone"] = "Mars/Olympus"
    raw["sla_classes"][0]["restoration"]["P1"] = "four hours"
    del raw["defaults"]

    assert problems(write(tmp_path, raw)) == [
        'default.yaml: version: quote the version, e.g. version: "7" (YAML read it as a number)',
        "default.yaml: defaults: Field required",
        "default.yaml: calendars[0].timezone: unknown IANA time zone 'Mars/Olympus' "
        "(e.g. Europe/Berlin, UTC)",
        "default.yaml: sla_classes[0].restoration.P1: a duration is ISO 8601 (PT4H, PT30S, P5D) or whole "
        "seconds, not 'four hours'",
    ]


def test_every_reference_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    raw = default_raw()
    raw["escalation"][2]["notify"] = "noc-pager"
    raw["workgroups"][0]["calendar"] = "never"
    raw["diagnosis_rules"][0]["then"] = {"category": "spam"}

    assert problems(write(tmp_path, raw)) == [
        "default.yaml: escalation[2].notify: unknown notification list 'noc-pager'",
        "default.yaml: workgroups[0].calendar: unknown calendar 'never'",
        "default.yaml: diagnosis_rules[0].then.category: unknown category 'spam'",
    ]


def test_problems_of_every_file_in_the_directory_are_reported(tmp_path: Path) -> None:
    first, second = default_raw(), default_raw()
    first["escalation"][0]["notify"] = "nobody"
    second.update(version="2026.2", valid_from="2026-07-01")
    second["calendars"][1]["timezone"] = "Berlin"
    write(tmp_path, first, "2026-01.yaml")
    write(tmp_path, second, "2026-07.yaml")

    assert problems(tmp_path) == [
        "2026-01.yaml: escalation[0].notify: unknown notification list 'nobody'",
        "2026-07.yaml: calendars[1].timezone: unknown IANA time zone 'Berlin' (e.g. Europe/Berlin, UTC)",
    ]


def test_two_files_with_the_same_version_are_refused(tmp_path: Path) -> None:
    later = default_raw()
    later["valid_from"] = "2026-07-01"
    write(tmp_path, default_raw(), "a.yaml")
    write(tmp_path, later, "b.yaml")

    assert problems(tmp_path) == ["b.yaml: version: '2026.1' is also the version of a.yaml"]


def test_two_files_valid_from_the_same_instant_are_refused(tmp_path: Path) -> None:
    other = default_raw()
    other.update(version="2026.1b", valid_from="2026-01-01T01:00:00+01:00")  # the same instant
    write(tmp_path, default_raw(), "a.yaml")
    write(tmp_path, other, "b.yaml")

    assert problems(tmp_path) == ["b.yaml: valid_from: a.yaml is valid from the same time"]


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "version: '1'\nvalid_from: [2026\n")) == [
        "default.yaml: line 3, column 1: expected ',' or ']', but got '<stream end>'"
    ]


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "- just\n- a list\n")) == [
        "default.yaml: a policy file is a YAML mapping (version, valid_from, priorities, ...)"
    ]


def test_missing_or_empty_policy_location_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no policy file or directory at"):
        load_policies(tmp_path / "nope")
    with pytest.raises(InvalidInput, match=r"no policy files \(\*\.yaml\) in"):
        load_policies(tmp_path)


def test_valid_from_may_be_a_date_meaning_midnight_utc(tmp_path: Path) -> None:
    raw = default_raw()
    raw["valid_from"] = "2026-07-01"

    (loaded,) = load_policies(write(tmp_path, raw))

    assert loaded.valid_from == datetime(2026, 7, 1, tzinfo=UTC)


def test_durations_may_be_given_in_seconds_iso_or_integer(tmp_path: Path) -> None:
    raw = default_raw()
    raw["sla_classes"][0]["restoration"] = {"P1": "PT30S", "P2": 30, "P3": "PT1M30S", "P4": "P5D"}
    raw["sla_classes"][0]["response"] = {"P1": "PT10S"}
    raw["progress_updates"]["P1"] = 5
    raw["close"]["auto_close_after"] = "PT45S"

    (fast,) = load_policies(write(tmp_path, raw))

    assert restoration_target(fast, "gold", "P1") == timedelta(seconds=30)
    assert restoration_target(fast, "gold", "P2") == timedelta(seconds=30)
    assert restoration_target(fast, "gold", "P3") == timedelta(seconds=90)
    assert progress_interval(fast, "P1") == timedelta(seconds=5)
    assert fast.close.auto_close_after == timedelta(seconds=45)


# --- lookups -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", "P1"),
        ("high", "medium", "P2"),
        ("medium", "high", "P2"),
        ("high", "low", "P3"),
        ("medium", "medium", "P3"),
        ("low", "high", "P3"),
        ("low", "medium", "P4"),
        ("low", "low", "P4"),
    ],
)
def test_priority_matrix_maps_impact_and_urgency(
    policy: Policy, impact: str, urgency: str, priority: str
) -> None:
    assert priority_for(policy, impact, urgency) == priority


def test_unknown_impact_is_invalid_input(policy: Policy) -> None:
    with pytest.raises(InvalidInput, match="impact and urgency are one of high, medium, low"):
        priority_for(policy, "severe", "high")


@pytest.mark.parametrize(
    ("sla", "priority", "target"),
    [
        ("gold", "P1", timedelta(hours=4)),
        ("gold", "P4", timedelta(days=5)),
        ("silver", "P1", timedelta(hours=8)),
        ("silver", "P2", timedelta(hours=20)),
        ("bronze", "P3", timedelta(hours=65)),
    ],
)
def test_restoration_target_per_sla_class_and_priority(
    policy: Policy, sla: str, priority: str, target: timedelta
) -> None:
    assert restoration_target(policy, sla, priority) == target


def test_restoration_target_of_unknown_class_or_priority_is_invalid_input(policy: Policy) -> None:
    with pytest.raises(InvalidInput, match="no SLA class 'platinum'"):
        restoration_target(policy, "platinum", "P1")
    with pytest.raises(InvalidInput, match="no priority 'P7'"):
        restoration_target(policy, "gold", "P7")


def test_escalation_step_in_force_is_the_highest_threshold_reached(policy: Policy) -> None:
    assert escalation_for(policy, "P2", 50) is None
    at_75 = escalation_for(policy, "P2", 75)
    assert at_75 is not None and (at_75.level, at_75.role, at_75.notify) == (1, "shift-lead", "noc-duty")
    breach = escalation_for(policy, "P2", 100)
    assert breach is not None and (breach.level, breach.role) == (3, "head-of-operations")
    functional = escalation_for(policy, "P1", 80)  # between 75 and 90: the 75 step is in force
    assert functional is not None and (functional.threshold, functional.workgroup) == (75, "core-network")
    assert escalation_for(policy, "P4", 90) is None


def test_rule_matches_on_equality_and_keywords(policy: Policy) -> None:
    facts = {"ticketType": "Incident", "description": "No internet since 9am", "severity": "Major"}

    (rule,) = matching_rules(policy, facts)

    assert (rule.id, rule.category, rule.impact, rule.urgency) == (
        "no-connection",
        "access-fault",
        "medium",
        "high",
    )


def test_rule_matches_on_regex_and_earlier_rules_come_first(policy: Policy) -> None:
    facts = {"ticketType": "incident", "description": "Fibre cable cut by an excavator, no internet"}

    assert [r.id for r in matching_rules(policy, facts)] == ["fibre-damage", "no-connection"]


def test_equality_needs_the_field_and_one_of_the_listed_values(policy: Policy) -> None:
    wholesale = matching_rules(policy, {"productCategory": "bitstream", "description": "slow"})
    assert [r.id for r in wholesale] == ["wholesale-line"]
    assert matching_rules(policy, {"description": "no internet"}) == []  # ticketType missing


def test_keywords_match_whole_words_only(policy: Policy) -> None:
    assert matching_rules(policy, {"description": "my frontend is broken"}) == []  # not "ont"
    assert [r.id for r in matching_rules(policy, {"description": "The ONT blinks red"})] == ["router-fault"]


def test_false_report_rule_flags_the_report_with_a_reason(policy: Policy) -> None:
    (rule,) = matching_rules(policy, {"description": "TEST TICKET from integration, please ignore"})

    assert rule.false_report == "Test submission, not a customer problem"
    assert rule.first_contact_resolution is None


def test_first_contact_resolution_rule_carries_the_resolution(policy: Policy) -> None:
    (rule,) = matching_rules(policy, {"description": "I forgot my WiFi password"})

    assert rule.first_contact_resolution is not None and "self-care app" in rule.first_contact_resolution
    assert rule.category == "usage" and rule.false_report is None


def test_workgroups_with_skill_in_a_region(policy: Policy) -> None:
    assert {w.id for w in workgroups_with_skill(policy, "field-repair")} == {
        "field-ops-north",
        "field-ops-south",
    }
    assert [w.id for w in workgroups_with_skill(policy, "field-repair", "de-south")] == ["field-ops-south"]
    # a workgroup without regions serves every region
    assert [w.id for w in workgroups_with_skill(policy, "first-line", "de-south")] == ["service-desk"]
    assert workgroups_with_skill(policy, "juggling") == ()


def test_progress_interval_per_priority(policy: Policy) -> None:
    assert progress_interval(policy, "P1") == timedelta(minutes=30)
    assert progress_interval(policy, "P4") is None
    with pytest.raises(InvalidInput):
        progress_interval(policy, "P9")


def test_tasks_for_a_category_form_its_work_plan(policy: Policy) -> None:
    plan = tasks_for(policy, "access-fault")

    assert [t.id for t in plan] == ["line-test", "isolate", "field-repair", "verify"]
    assert plan[1].depends_on == ("line-test",) and plan[1].workgroup == "access-network"
    assert plan[2].mandatory is False and plan[2].skill == "field-repair"
    assert tasks_for(policy, "usage") == ()
    with pytest.raises(InvalidInput, match="no category 'gardening'"):
        tasks_for(policy, "gardening")


def _two_versions(folder: Path) -> Path:
    later = default_raw()
    later.update(version="2026.2", valid_from="2026-07-01T00:00:00+02:00")
    later["sla_classes"][0]["restoration"]["P1"] = "PT2H"
    write(folder, default_raw(), "2026-01.yaml")
    write(folder, later, "2026-07.yaml")
    return folder


def test_active_policy_is_the_latest_valid_one(tmp_path: Path) -> None:
    policies = load_policies(_two_versions(tmp_path))
    assert [p.version for p in policies] == ["2026.1", "2026.2"]

    def at(text: str) -> Policy:
        return active_policy(policies, datetime.fromisoformat(text))

    assert at("2026-03-01T00:00:00Z").version == "2026.1"
    assert at("2026-06-30T21:59:59Z").version == "2026.1"
    assert at("2026-06-30T22:00:00Z").version == "2026.2"  # midnight in +02:00
    assert restoration_target(at("2027-01-01T00:00:00Z"), "gold", "P1") == timedelta(hours=2)


def test_no_policy_valid_yet_is_invalid_input(policy: Policy) -> None:
    with pytest.raises(InvalidInput, match="no policy is valid at 2025-12-31"):
        active_policy([policy], datetime(2025, 12, 31, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="must carry a timezone"):
        active_policy([policy], datetime(2026, 3, 1))


def test_iso_durations_render_as_written() -> None:
    assert [iso_duration(timedelta(seconds=s)) for s in (30, 90, 4 * 3600, 5 * 86400, 86400 + 1800, 0)] == [
        "PT30S",
        "PT1M30S",
        "PT4H",
        "P5D",
        "P1DT30M",
        "PT0S",
    ]


# --- CLI ---------------------------------------------------------------------------------------------


def cli(*args: str, policy_dir: Path | None = None) -> tuple[int, str]:
    env = {"TROUBLEFLOW_POLICY_DIR": str(policy_dir) if policy_dir else None}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_policy_check_summarises_the_default_policy() -> None:
    code, out = cli("policy", "check")

    assert code == 0, out
    assert "packaged default policy: 1 policy version(s), all valid" in out
    assert (
        "2026.1       valid from 2026-01-01T00:00:00+00:00: 3 SLA classes, 3 calendars, 7 workgroups, "
        "9 diagnosis rules, 10 escalation steps"
    ) in out


def test_policy_check_of_a_directory_lists_every_version(tmp_path: Path) -> None:
    code, out = cli("policy", "check", str(_two_versions(tmp_path)))

    assert code == 0, out
    assert "2 policy version(s), all valid" in out and "2026.1 " in out and "2026.2 " in out


def test_policy_check_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    raw = default_raw()
    raw["escalation"][2]["notify"] = "noc-pager"
    raw["workgroups"][0]["calendar"] = "never"
    write(tmp_path, raw)

    code, out = cli("policy", "check", str(tmp_path))

    assert code == 1
    assert "error: the policy has 2 problems:" in out
    assert "default.yaml: escalation[2].notify: unknown notification list 'noc-pager'" in out
    assert "default.yaml: workgroups[0].calendar: unknown calendar 'never'" in out


def test_policy_check_defaults_to_the_configured_policy_dir(tmp_path: Path) -> None:
    write(tmp_path, "version: '1'\n")

    code, out = cli("policy", "check", policy_dir=tmp_path)

    assert code == 1 and "default.yaml: valid_from: Field required" in out


def test_policy_show_prints_the_policy_in_force_as_json(tmp_path: Path) -> None:
    folder = _two_versions(tmp_path)

    code, out = cli("policy", "show", "--at", "2026-03-01T12:00:00+01:00", policy_dir=folder)
    assert code == 0, out
    shown = json.loads(out)
    assert shown["version"] == "2026.1"
    gold = next(s for s in shown["sla_classes"] if s["id"] == "gold")
    assert gold["restoration"] == {"P1": "PT4H", "P2": "PT8H", "P3": "P1D", "P4": "P5D"}
    office = next(c for c in shown["calendars"] if c["id"] == "office-de")
    assert office["weekly_hours"][0] == {"weekday": "mon", "start": "08:00", "end": "18:00"}

    code, out = cli("policy", "show", "--at", "2026-08-01", policy_dir=folder)
    assert code == 0 and json.loads(out)["version"] == "2026.2"


def test_policy_show_before_any_policy_or_with_a_bad_time_fails_clearly() -> None:
    code, out = cli("policy", "show", "--at", "2020-01-01")
    assert code == 1 and "no policy is valid at 2020-01-01T00:00:00+00:00" in out

    code, out = cli("policy", "show", "--at", "yesterday")
    assert code == 2 and "'yesterday' is not an ISO 8601 date-time" in out
