"""Policy files: read `policies/*.yaml`, validate them (structure, then cross-references; every problem of
every file at once) and turn them into the domain's `Policy`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, time, timedelta
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from troubleflow.domain import policy as domain
from troubleflow.domain.policy import LEVELS, Policy
from troubleflow.errors import InvalidInput
from troubleflow.policy_schema import (
    DURATION_SYNTAX,
    CalendarModel,
    DelegationModel,
    PolicyModel,
    RestorationModel,
    RuleModel,
    TaskModel,
)

Problem = tuple[str, str]  # (path inside the file, what is wrong)
Known = dict[str, set[str]]  # kind of thing -> the ids the file defines
_ENTITY_SECTIONS = ("priorities", "calendars", "sla_classes", "notification_lists", "skills", "workgroups")
K = TypeVar("K")
V = TypeVar("V")


def default_policy_dir() -> Traversable:
    """The documented default policy shipped inside the package."""
    return resources.files("troubleflow").joinpath("policies")


def load_policies(location: str | Path | None = None) -> tuple[Policy, ...]:
    """Every policy in a directory of `*.yaml` files (or one file), oldest `valid_from` first.

    `None` or "" means the packaged default. Raises InvalidInput naming each problem as
    `file: path.inside[0].the.file: what is wrong`.
    """
    problems: list[str] = []
    loaded: list[tuple[str, Policy]] = []
    for source in _sources(location):
        policy, found = _load_file(source)
        problems += found
        if policy is not None:
            loaded.append((source.name, policy))
    problems += _clashes(loaded)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise InvalidInput(f"the policy has {count}:\n  " + "\n  ".join(problems))
    return tuple(sorted((policy for _, policy in loaded), key=lambda p: p.valid_from))


def _sources(location: str | Path | None) -> list[Traversable]:
    if not location:
        folder: Traversable = default_policy_dir()
    else:
        folder = Path(location)
        if folder.is_file():
            return [folder]
        if not folder.is_dir():
            raise InvalidInput(f"no policy file or directory at {location}")
    found = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    if not found:
        raise InvalidInput(f"no policy files (*.yaml) in {location or folder}")
    return found


def _load_file(source: Traversable) -> tuple[Policy | None, list[str]]:
    name = source.name
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return None, [f"{name}: {where}{exc.problem or exc}"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [f"{name}: cannot be read: {exc}"]
    if not isinstance(raw, dict):
        return None, [f"{name}: a policy file is a YAML mapping (version, valid_from, priorities, ...)"]
    try:
        doc = PolicyModel.model_validate(raw)
    except ValidationError as exc:
        return None, [f"{name}: {_where(e['loc'])}: {_what(e)}" for e in exc.errors()]
    problems = [f"{name}: {path}: {message}" for path, message in reference_problems(doc)]
    return (None if problems else _to_policy(doc)), problems


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as the operator reads it: `escalation[2].notify`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (key)"
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


def _what(error: ErrorDetails) -> str:
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    message = DURATION_SYNTAX if error["type"].startswith("time_delta") else error["msg"]
    value = error.get("input")
    if error["type"] in {"missing", "extra_forbidden"} or not isinstance(value, str | int | float):
        return message
    return f"{message}, not {value!r}"


def _clashes(loaded: Sequence[tuple[str, Policy]]) -> list[str]:
    """Two files may not share a version, nor a validity date (which one would apply?)."""
    problems: list[str] = []
    versions: dict[str, str] = {}
    starts: dict[datetime, str] = {}
    for name, policy in loaded:
        if policy.version in versions:
            problems.append(
                f"{name}: version: {policy.version!r} is also the version of {versions[policy.version]}"
            )
        if policy.valid_from in starts:
            problems.append(f"{name}: valid_from: {starts[policy.valid_from]} is valid from the same time")
        versions.setdefault(policy.version, name)
        starts.setdefault(policy.valid_from, name)
    return problems


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(mapping))


def _to_policy(doc: PolicyModel) -> Policy:
    return Policy(
        version=doc.version,
        valid_from=doc.valid_from,
        description=doc.description,
        priorities=tuple(domain.Priority(p.id, p.name or p.id, p.description) for p in doc.priorities),
        priority_matrix=_frozen({impact: _frozen(row) for impact, row in doc.priority_matrix.items()}),
        defaults=domain.Defaults(**doc.defaults.model_dump()),
        calendars=tuple(_calendar(c) for c in doc.calendars),
        sla_classes=tuple(
            domain.SlaClass(
                s.id,
                s.name or s.id,
                s.calendar,
                _frozen(s.restoration),
                _frozen(s.response),
                frozenset(s.clock_stops),
            )
            for s in doc.sla_classes
        ),
        jeopardy_thresholds=tuple(doc.jeopardy_thresholds),
        escalation=tuple(domain.EscalationStep(**step.model_dump()) for step in doc.escalation),
        notification_lists=tuple(
            domain.NotificationList(
                n.id,
                n.name or n.id,
                tuple(domain.Recipient(domain.Channel(r.channel), r.address) for r in n.recipients),
            )
            for n in doc.notification_lists
        ),
        skills=tuple(domain.Skill(s.id, s.name or s.id) for s in doc.skills),
        workgroups=tuple(
            domain.Workgroup(
                w.id,
                w.name or w.id,
                w.tier,
                frozenset(w.skills),
                frozenset(w.regions),
                w.capacity,
                w.calendar,
            )
            for w in doc.workgroups
        ),
        categories=tuple(
            domain.Category(c.id, c.name or c.id, tuple(_task(t) for t in c.tasks), c.layer)
            for c in doc.categories
        ),
        diagnosis_rules=tuple(_rule(r) for r in doc.diagnosis_rules),
        progress_updates=_frozen(doc.progress_updates),
        close=domain.CloseRules(**doc.close.model_dump()),
        delegation=_delegation(doc.delegation),
        restoration=_restoration(doc.restoration),
        intake=domain.IntakeRules(start_tracking=doc.intake.start_tracking),
    )


def _delegation(model: DelegationModel) -> domain.Delegation:
    domains = tuple(
        domain.ServiceDomain(
            d.id, d.endpoint.rstrip("/"), tuple(d.categories), tuple(d.service_specifications)
        )
        for d in model.service_domains
    )
    values = model.model_dump(exclude={"service_domains"})
    return domain.Delegation(**values, service_domains=domains)


def _restoration(model: RestorationModel) -> domain.RestorationRules:
    major = model.major_problem
    return domain.RestorationRules(
        validate_before_clear=model.validate_before_clear,
        failed_task=model.failed_task,
        infeasible_task=model.infeasible_task,
        replan_skill=model.replan_skill,
        workaround_known_error=model.workaround_known_error,
        workaround_change_request=model.workaround_change_request,
        major_priorities=tuple(major.priorities),
        major_severities=tuple(major.severities),
        major_outage_masters=major.outage_masters,
    )


def _task(t: TaskModel) -> domain.TaskTemplate:
    name = t.name or t.id
    return domain.TaskTemplate(
        t.id, name, t.workgroup, t.skill, tuple(t.depends_on), t.mandatory, t.expected_duration
    )


def _calendar(model: CalendarModel) -> domain.CalendarSpec:
    hours = sorted(
        (
            domain.WeeklyInterval(day, _local_time(start), _local_time(end))
            for days, spans in model.hours.items()
            for day in days
            for start, end in spans
        ),
        key=lambda w: (w.weekday, w.start),
    )
    holidays = model.holidays
    return domain.CalendarSpec(
        id=model.id,
        name=model.name or model.id,
        timezone=model.timezone,
        weekly_hours=tuple(hours),
        holiday_country=holidays.country if holidays else None,
        holiday_subdivision=holidays.subdivision if holidays else None,
        extra_holidays=frozenset(model.extra_holidays),
    )


def _local_time(offset: timedelta) -> time:
    """An offset from local midnight as a wall time; 24:00 becomes time(0), the end of the day."""
    return (datetime.min + offset).time()


def _rule(model: RuleModel) -> domain.DiagnosisRule:
    conditions = tuple(
        domain.Condition(field, tuple(c.equals), re.compile(c.regex) if c.regex else None, tuple(c.keywords))
        for field, c in model.when.items()
    )
    return domain.DiagnosisRule(model.id, model.description, conditions, **model.then.model_dump())


def reference_problems(doc: PolicyModel) -> list[Problem]:
    """Every broken cross-reference and ordering rule in a structurally valid file, in file order."""
    known = {
        "priority": {p.id for p in doc.priorities},
        "calendar": {c.id for c in doc.calendars},
        "SLA class": {s.id for s in doc.sla_classes},
        "notification list": {n.id for n in doc.notification_lists},
        "skill": {s.id for s in doc.skills},
        "workgroup": {w.id for w in doc.workgroups},
        "category": {c.id for c in doc.categories},
    }
    checks = (
        _unique_ids,
        _priority_problems,
        _sla_problems,
        _escalation_problems,
        _workgroup_problems,
        _category_problems,
        _rule_problems,
        _restoration_problems,
        _delegation_problems,
    )
    return [problem for check in checks for problem in check(doc, known)]


def _delegation_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    yield from _ref(known, "notification list", doc.delegation.silence_notify, "delegation.silence_notify")
    domains = doc.delegation.service_domains
    yield from _duplicates([d.id for d in domains], "delegation.service_domains")
    for i, d in enumerate(domains):
        for j, category in enumerate(d.categories):
            yield from _ref(known, "category", category, f"delegation.service_domains[{i}].categories[{j}]")


def _ref(known: Known, kind: str, value: str | None, path: str) -> Iterator[Problem]:
    if value is not None and value not in known[kind]:
        yield path, f"unknown {kind} {value!r}"


def _unique_ids(doc: PolicyModel, _known: Known) -> Iterator[Problem]:
    for name in _ENTITY_SECTIONS:
        yield from _duplicates([item.id for item in getattr(doc, name)], name)
    yield from _duplicates([c.id for c in doc.categories], "categories")
    yield from _duplicates([r.id for r in doc.diagnosis_rules], "diagnosis_rules")
    for i, category in enumerate(doc.categories):
        yield from _duplicates([t.id for t in category.tasks], f"categories[{i}].tasks")


def _duplicates(ids: list[str], section: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, item_id in enumerate(ids):
        if item_id in seen:
            yield f"{section}[{i}].id", f"duplicate id {item_id!r}"
        seen.add(item_id)


def _per_priority(
    known: Known, targets: dict[str, object], path: str, *, complete: bool, hint: str = ""
) -> Iterator[Problem]:
    for priority in targets:
        yield from _ref(known, "priority", priority, f"{path}.{priority}")
    if complete:
        for priority in sorted(known["priority"] - set(targets)):
            yield path, f"no entry for priority {priority!r}{hint}"


def _priority_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    matrix: dict[str, dict[str, str]] = {impact: dict(row) for impact, row in doc.priority_matrix.items()}
    for impact in LEVELS:
        row = matrix.get(impact)
        if row is None:
            yield "priority_matrix", f"no row for impact {impact!r}"
            continue
        for urgency in LEVELS:
            if urgency not in row:
                yield f"priority_matrix.{impact}", f"no priority for urgency {urgency!r}"
            else:
                yield from _ref(known, "priority", row[urgency], f"priority_matrix.{impact}.{urgency}")
    yield from _per_priority(
        known, dict(doc.progress_updates), "progress_updates", complete=True, hint=" (null: no updates)"
    )
    yield from _ref(known, "SLA class", doc.defaults.sla_class, "defaults.sla_class")
    yield from _ref(known, "category", doc.defaults.category, "defaults.category")
    for i, (low, high) in enumerate(pairwise(doc.jeopardy_thresholds)):
        if high <= low:
            yield f"jeopardy_thresholds[{i + 1}]", f"thresholds rise strictly: {high} comes after {low}"


def _sla_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    for i, sla in enumerate(doc.sla_classes):
        path = f"sla_classes[{i}]"
        yield from _ref(known, "calendar", sla.calendar, f"{path}.calendar")
        yield from _per_priority(known, dict(sla.restoration), f"{path}.restoration", complete=True)
        yield from _per_priority(known, dict(sla.response), f"{path}.response", complete=False)
        for priority, response in sla.response.items():
            if priority in sla.restoration and response > sla.restoration[priority]:
                yield (
                    f"{path}.response.{priority}",
                    "the response target is longer than the restoration target",
                )


def _escalation_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    thresholds = ", ".join(str(t) for t in doc.jeopardy_thresholds)
    seen: dict[tuple[str, int], int] = {}
    for i, step in enumerate(doc.escalation):
        path = f"escalation[{i}]"
        yield from _ref(known, "priority", step.priority, f"{path}.priority")
        yield from _ref(known, "workgroup", step.workgroup, f"{path}.workgroup")
        yield from _ref(known, "notification list", step.notify, f"{path}.notify")
        if step.threshold not in doc.jeopardy_thresholds:
            yield f"{path}.threshold", f"{step.threshold} is not a jeopardy threshold ({thresholds})"
        if (step.priority, step.threshold) in seen:
            first = seen[(step.priority, step.threshold)]
            yield path, f"{step.priority} at {step.threshold}% is already escalated by escalation[{first}]"
        seen.setdefault((step.priority, step.threshold), i)
    # Escalation never lowers (etom.md C7): within a priority, a higher threshold has no lower level.
    for i, step in enumerate(doc.escalation):
        for other in doc.escalation:
            if (
                other.priority == step.priority
                and other.threshold < step.threshold
                and other.level > step.level
            ):
                yield (
                    f"escalation[{i}].level",
                    f"level {step.level} at {step.threshold}% is below level {other.level} at "
                    f"{other.threshold}% for {step.priority}: escalation never lowers",
                )
                break


def _workgroup_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    for i, group in enumerate(doc.workgroups):
        for j, skill in enumerate(group.skills):
            yield from _ref(known, "skill", skill, f"workgroups[{i}].skills[{j}]")
        yield from _ref(known, "calendar", group.calendar, f"workgroups[{i}].calendar")


def _category_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    offered = {skill for group in doc.workgroups for skill in group.skills}
    for i, category in enumerate(doc.categories):
        task_ids = {t.id for t in category.tasks}
        for j, task in enumerate(category.tasks):
            path = f"categories[{i}].tasks[{j}]"
            yield from _ref(known, "workgroup", task.workgroup, f"{path}.workgroup")
            yield from _ref(known, "skill", task.skill, f"{path}.skill")
            if task.skill in known["skill"] and task.skill not in offered:
                yield f"{path}.skill", f"no workgroup has skill {task.skill!r}"
            for k, dependency in enumerate(task.depends_on):
                if dependency not in task_ids:
                    yield (
                        f"{path}.depends_on[{k}]",
                        f"unknown task {dependency!r} in category {category.id!r}",
                    )
        graph = {t.id: [d for d in t.depends_on if d in task_ids] for t in category.tasks}
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as exc:
            cycle = " needs ".join(reversed(exc.args[1]))  # CycleError lists each task before its dependents
            yield f"categories[{i}].tasks", f"the tasks depend on each other in a cycle: {cycle}"


def _rule_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    for i, rule in enumerate(doc.diagnosis_rules):
        yield from _ref(known, "category", rule.then.category, f"diagnosis_rules[{i}].then.category")
        yield from _ref(known, "workgroup", rule.then.workgroup, f"diagnosis_rules[{i}].then.workgroup")


def _restoration_problems(doc: PolicyModel, known: Known) -> Iterator[Problem]:
    section = doc.restoration
    for i, priority in enumerate(section.major_problem.priorities):
        yield from _ref(known, "priority", priority, f"restoration.major_problem.priorities[{i}]")
    yield from _ref(known, "skill", section.replan_skill, "restoration.replan_skill")
