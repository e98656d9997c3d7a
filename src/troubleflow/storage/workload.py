"""Open tasks per workgroup (the load that task assignment balances), kept as signed deltas written in
the task change's own transaction and folded by the worker, like the ticket tally (storage/tally.py).

Counting the open tasks of a workgroup on the task index walked every open task it held: at a few
thousand reports that was 1.3 ms per assignment, two assignments per create, growing with the backlog.
A sum over a workgroup's delta rows stays short, and appending never contends on a counter row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, delete, func, select

from troubleflow.domain.work_plan import Task
from troubleflow.storage.driver import insert_rows, placeholders, select_rows
from troubleflow.storage.tables import workgroup_load

FOLD_AFTER_ROWS = 200  # the worker folds from here on
FOLD_IN_PLACE_AFTER = 2000  # rows of one workgroup: a writer folds (no worker for a while)


def record(conn: Connection, deltas: Iterable[tuple[str, int]]) -> None:
    net: Counter[str] = Counter()
    for workgroup, n in deltas:
        net[workgroup] += n
    insert_rows(conn, workgroup_load, [{"workgroup": w, "n": n} for w, n in net.items() if n])


def moved(old: Task | None, new: Task | None) -> list[tuple[str, int]]:
    """The deltas of a task going from `old` to `new` (None: not there): it counts for its workgroup
    while it is open."""
    before = old.workgroup if old is not None and old.is_open else None
    after = new.workgroup if new is not None and new.is_open else None
    if before == after:
        return []
    return [*([(before, -1)] if before else []), *([(after, 1)] if after else [])]


def open_tasks(conn: Connection, workgroups: Sequence[str]) -> dict[str, int]:
    """The open tasks of each of `workgroups`. Should the worker not fold for a while (stopped, or not
    run at all), the writer folds here once a workgroup's deltas pile up, so a create never sums an
    ever-growing list (the benchmark ran the API without a worker: creates fell to half speed)."""
    if not workgroups:
        return {}
    sql = (
        "SELECT workgroup, SUM(n), COUNT(*) FROM workgroup_load"
        f" WHERE workgroup IN ({placeholders(len(workgroups))}) GROUP BY workgroup"
    )
    rows = select_rows(conn, sql, list(workgroups))
    if any(int(r[2]) > FOLD_IN_PLACE_AFTER for r in rows):
        fold(conn)
    return {str(w): int(n) for w, n, _ in rows}


def pending_rows(conn: Connection) -> int:
    low, high = conn.execute(select(func.min(workgroup_load.c.id), func.max(workgroup_load.c.id))).one()
    return 0 if low is None else int(high) - int(low) + 1


def fold(conn: Connection) -> int:
    """One row per workgroup for the rows this transaction sees (DELETE … RETURNING, as tally.fold)."""
    c = workgroup_load.c
    net: Counter[str] = Counter()
    folded = 0
    for workgroup, n in conn.execute(delete(workgroup_load).returning(c.workgroup, c.n)):
        net[str(workgroup)] += int(n)
        folded += 1
    record(conn, net.items())
    return folded
