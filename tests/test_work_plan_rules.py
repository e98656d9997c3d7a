"""The pure rules of the work plan (domain.work_plan): no database, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from troubleflow.domain import work_plan as wp
from troubleflow.domain.progress import next_progress
from troubleflow.errors import Conflict, InvalidInput
from troubleflow.policy_files import load_policies

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _task(
    task_id: str, state: wp.TaskState, *after: str, mandatory: bool = True, eta: datetime | None = None
) -> wp.Task:
    return wp.Task("r", task_id, f"t{task_id}", state, mandatory, HOUR, depends_on=after, eta=eta)


def test_missed_progress_slots_are_skipped_so_the_customer_hears_once_per_interval() -> None:
    assert next_progress(T0, 2 * HOUR, T0 + 30 * timedelta(minutes=1)) == T0 + 2 * HOUR
    assert next_progress(T0, 2 * HOUR, T0 + 7 * HOUR) == T0 + 8 * HOUR
    assert next_progress(T0, 2 * HOUR, T0 + 8 * HOUR) == T0 + 10 * HOUR


def test_a_waiting_task_is_forecast_behind_its_latest_predecessor() -> None:
    plan = {
        "1": _task("1", wp.TaskState.IN_PROGRESS, eta=T0 + 3 * HOUR),
        "2": _task("2", wp.TaskState.READY, eta=T0 + HOUR),
        "3": _task("3", wp.TaskState.WAITING, "1", "2", eta=T0 + 2 * HOUR),
        "4": _task("4", wp.TaskState.WAITING, "3", eta=T0 + 3 * HOUR),
    }

    moved = {t.id: t.eta for t in wp.reschedule(plan)}

    assert moved == {"3": T0 + 4 * HOUR, "4": T0 + 5 * HOUR}


def test_the_report_eta_is_the_end_of_the_mandatory_critical_path() -> None:
    plan = [
        _task("1", wp.TaskState.DONE),
        _task("2", wp.TaskState.READY, eta=T0 + 2 * HOUR),
        _task("3", wp.TaskState.WAITING, mandatory=False, eta=T0 + 9 * HOUR),
        _task("4", wp.TaskState.CANCELLED, eta=T0 + 9 * HOUR),
    ]
    assert wp.expected_resolution(plan) == T0 + 2 * HOUR


def test_a_task_cannot_finish_before_its_predecessors_are_settled() -> None:
    plan = {"1": _task("1", wp.TaskState.READY), "2": _task("2", wp.TaskState.WAITING, "1")}
    with pytest.raises(Conflict, match="predecessors"):
        wp.change(
            plan["2"], plan, wp.TaskChange(state=wp.TaskState.DONE, given=frozenset({"state"})), "a", T0
        )


def test_a_cancelled_optional_predecessor_no_longer_blocks() -> None:
    plan = {
        "1": _task("1", wp.TaskState.CANCELLED, mandatory=False),
        "2": _task("2", wp.TaskState.WAITING, "1"),
    }
    assert [t.id for t in wp.release(plan)] == ["2"]


def test_equal_load_goes_to_the_lower_tier_then_to_policy_order() -> None:
    policy = load_policies(None)[0]

    def loads(**open_tasks: int) -> wp.Load:
        return lambda groups: {g: open_tasks.get(g.replace("-", "_"), 0) for g in groups}

    assert wp.assign(policy, None, "remote-diagnosis", None, loads()).workgroup == "service-desk"  # tier 1
    busy = loads(service_desk=1)
    assert wp.assign(policy, None, "remote-diagnosis", None, busy).workgroup == "access-network"
    west = wp.assign(policy, None, "field-repair", "de-west", loads())
    assert west.workgroup == "field-ops-north" and "none serves region de-west" in west.reason
    south = wp.assign(policy, None, "field-repair", "de-south", loads(field_ops_south=9))
    assert south.workgroup == "field-ops-south" and "the only workgroup" in south.reason


@st.composite
def _plans(draw: st.DrawFn) -> dict[str, wp.Task]:
    """A random plan: each task may depend on earlier ones (a DAG, as the policy loader guarantees)."""
    n = draw(st.integers(1, 6))
    plan: dict[str, wp.Task] = {}
    for i in range(1, n + 1):
        after = tuple(str(d) for d in sorted(draw(st.sets(st.integers(1, i - 1))))) if i > 1 else ()
        state = wp.TaskState.WAITING if after else wp.TaskState.READY
        plan[str(i)] = _task(str(i), state, *after, mandatory=draw(st.booleans()))
    return plan


OPS = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.sampled_from([wp.TaskState.IN_PROGRESS, wp.TaskState.DONE, wp.TaskState.CANCELLED]),
    ),
    max_size=20,
)


@given(_plans(), OPS)
def test_no_task_ever_runs_ahead_of_its_predecessors(
    plan: dict[str, wp.Task], ops: list[tuple[int, wp.TaskState]]
) -> None:
    for number, target in ops:
        task = plan.get(str(number))
        if task is None:
            continue
        wanted = wp.TaskChange(state=target, reason="not needed", given=frozenset({"state", "reason"}))
        try:
            changed = wp.change(task, plan, wanted, "a", T0)
        except (Conflict, InvalidInput):
            continue
        plan = {**plan, changed.id: changed}
        plan.update({t.id: t for t in wp.release(plan)})
        for t in plan.values():
            if t.state in (wp.TaskState.IN_PROGRESS, wp.TaskState.DONE):
                assert not wp.blocking(t, plan)
            if t.state is wp.TaskState.WAITING:
                assert wp.blocking(t, plan)
            if t.state is wp.TaskState.CANCELLED:
                assert not t.mandatory
        if wp.is_complete(plan.values()):
            wp.check_clearable(plan.values())  # never raises once nothing is open
