"""The work plan of a report over HTTP, a troubleflow extension beside TMF621: tasks (`@type: WorkTask`) as
a sub-resource of the report, `/tmf-api/troubleflow/v1/troubleTicket/{id}/task[/{taskId}]`
(docs/work-plan.md). Merge-patch to work a task, `If-Match` against its version, TMF630 error bodies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import Response

from troubleflow.api.errors import JSON
from troubleflow.api.http import (
    MERGE_TYPES,
    actor,
    decode_body,
    if_match,
    media_type,
    raise_unsupported_media,
)
from troubleflow.api.representation import fmt, put, validate
from troubleflow.api.runtime import Runtime
from troubleflow.domain import work_plan as wp
from troubleflow.policy_schema import Duration, iso_duration
from troubleflow.processes import work_plan

PREFIX = "/tmf-api/troubleflow/v1"
_encode = msgspec.json.Encoder().encode


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NoteInput(_Body):
    """A task note; its author is the caller (`X-Troubleflow-Actor`), its date the server's clock."""

    text: str


class WorkTaskUpdate(_Body):
    """What a merge-patch of a task may change; every other attribute is server-owned."""

    state: str | None = None
    state_change_reason: str | None = Field(None, alias="stateChangeReason")
    assignee: str | None = Field(None, max_length=200)
    workgroup: str | None = Field(None, max_length=100)
    expected_completion_date: AwareDatetime | None = Field(None, alias="expectedCompletionDate")
    note: list[NoteInput] = []


class WorkTaskCreate(_Body):
    """An ad-hoc task: a workgroup or a skill to assign by, the tasks it waits for."""

    name: str = Field(max_length=200)
    workgroup: str | None = Field(None, max_length=100)
    skill: str | None = Field(None, max_length=100)
    assignee: str | None = Field(None, max_length=200)
    mandatory: bool = True
    depends_on: list[str] = Field([], alias="dependsOn")
    expected_duration: Duration = Field(timedelta(hours=1), alias="expectedDuration")


_FIELDS = {
    "state": "state",
    "state_change_reason": "reason",
    "assignee": "assignee",
    "workgroup": "workgroup",
    "expected_completion_date": "eta",
    "note": "notes",
}


def task_href(base_url: str, ticket_id: str, task_id: str) -> str:
    return f"{base_url}{PREFIX}/troubleTicket/{ticket_id}/task/{task_id}"


def render_task(t: wp.Task, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "href": task_href(base_url, t.ticket_id, t.id), "@type": "WorkTask"}
    out["name"] = t.name
    out["state"] = t.state.value
    out["mandatory"] = t.mandatory
    put(out, "template", t.template)
    put(out, "skill", t.skill)
    put(out, "workgroup", t.workgroup)
    put(out, "assignee", t.assignee)
    out["dependsOn"] = list(t.depends_on)
    out["expectedDuration"] = iso_duration(t.duration)
    put(out, "dueDate", t.due)
    put(out, "expectedCompletionDate", t.eta)
    put(out, "startDate", t.started)
    put(out, "completionDate", t.finished)
    put(out, "stateChangeReason", t.reason)
    out["note"] = [{"text": n.text, "author": n.author, "date": fmt(n.date)} for n in t.notes]
    out["troubleTicket"] = {
        "id": t.ticket_id,
        "href": f"{base_url}/tmf-api/troubleTicket/v4/troubleTicket/{t.ticket_id}",
        "@referredType": "TroubleTicket",
    }
    return out


def _change(model: WorkTaskUpdate) -> wp.TaskChange:
    return wp.TaskChange(
        state=wp.parse_state(model.state) if model.state is not None else None,
        assignee=model.assignee,
        workgroup=model.workgroup,
        eta=model.expected_completion_date,
        notes=tuple(n.text for n in model.note),
        reason=model.state_change_reason,
        given=frozenset(_FIELDS[f] for f in model.model_fields_set),
    )


def make_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=f"{PREFIX}/troubleTicket/{{id}}/task", tags=["Work plan (troubleflow)"])
    db, clock = runtime.db, runtime.clock

    def respond(request: Request, task: wp.Task, status: int = 200) -> Response:
        body = render_task(task, runtime.base_url(request))
        headers = {"ETag": f'"{task.version}"'}
        if status == 201:
            headers["Location"] = body["href"]
        return Response(_encode(body), status_code=status, media_type=JSON, headers=headers)

    async def list_tasks(request: Request, id: str) -> Response:
        found = await runtime.read(work_plan.list_tasks, db, id)
        base = runtime.base_url(request)
        return Response(_encode([render_task(t, base) for t in found]), media_type=JSON)

    async def get_task(request: Request, id: str, task_id: str) -> Response:
        return respond(request, await runtime.read(work_plan.get_task, db, id, task_id))

    async def patch_task(request: Request, id: str, task_id: str) -> Response:
        media = media_type(request)
        if media not in MERGE_TYPES:
            raise_unsupported_media(media)
        model = validate(WorkTaskUpdate, decode_body(await request.body()))
        task = await runtime.write(
            work_plan.update_task,
            db,
            id,
            task_id,
            _change(model),
            clock=clock,
            actor=actor(request),
            if_match=if_match(request),
            policy=runtime.policy(),
        )
        return respond(request, task)

    async def create_task(request: Request, id: str) -> Response:
        model = validate(WorkTaskCreate, decode_body(await request.body()))
        new = work_plan.NewTask(
            name=model.name,
            workgroup=model.workgroup,
            skill=model.skill,
            assignee=model.assignee,
            mandatory=model.mandatory,
            depends_on=tuple(model.depends_on),
            duration=model.expected_duration,
        )
        task = await runtime.write(
            work_plan.add_task, db, id, new, clock=clock, actor=actor(request), policy=runtime.policy()
        )
        return respond(request, task, 201)

    errors: dict[int | str, dict[str, Any]] = {
        str(c): {"description": t} for c, t in ((400, "Bad Request"), (404, "Not Found"))
    }
    router.add_api_route(
        "", list_tasks, methods=["GET"], summary="List the tasks of a report", responses=errors
    )
    router.add_api_route(
        "", create_task, methods=["POST"], status_code=201, summary="Add an ad-hoc task", responses=errors
    )
    router.add_api_route("/{task_id}", get_task, methods=["GET"], summary="Retrieve a task", responses=errors)
    router.add_api_route(
        "/{task_id}",
        patch_task,
        methods=["PATCH"],
        summary="Work a task (state, assignee, workgroup, ETA, note)",
        responses={
            **errors,
            "409": {"description": "Conflict"},
            "412": {"description": "Precondition Failed"},
        },
    )
    return router
