"""TMF656 Service Problem Management wire schemas (v4.0.0 and v5.0.0): request validation and the OpenAPI
document. Sub-objects are open TMF documents (validated as objects; references need an `id`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from troubleflow.api.wire import Open, UtcDateTime

Priority = Annotated[int, Field(strict=True, ge=1, le=10)]  # TMF656: 1 (highest) .. 10 (lowest)
Objects = list[dict[str, Any]]


class Ref(Open):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class _Problem(Open):
    name: str | None = None
    description: str | None = None
    category: str | None = None
    priority: Priority | None = None
    reason: str | None = None
    status: str | None = None
    status_change_reason: str | None = Field(None, alias="statusChangeReason")
    resolution_date: UtcDateTime | None = Field(None, alias="resolutionDate")
    expected_resolution_date: UtcDateTime | None = Field(None, alias="expectedResolutionDate")
    originating_system: str | None = Field(None, alias="originatingSystem")
    impact_importance_factor: str | None = Field(None, alias="impactImportanceFactor")
    problem_escalation: str | None = Field(None, alias="problemEscalation")
    affected_number_of_services: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, alias="affectedNumberOfServices"
    )
    originator_party: dict[str, Any] | None = Field(None, alias="originatorParty")
    responsible_party: dict[str, Any] | None = Field(None, alias="responsibleParty")
    first_alert: dict[str, Any] | None = Field(None, alias="firstAlert")
    impact_pattern: dict[str, Any] | None = Field(None, alias="impactPattern")
    affected_service: list[Ref] | None = Field(None, alias="affectedService")
    affected_resource: list[Ref] | None = Field(None, alias="affectedResource")
    affected_location: Objects | None = Field(None, alias="affectedLocation")
    root_cause_service: list[Ref] | None = Field(None, alias="rootCauseService")
    root_cause_resource: list[Ref] | None = Field(None, alias="rootCauseResource")
    underlying_alarm: list[Ref] | None = Field(None, alias="underlyingAlarm")
    underlying_problem: list[Ref] | None = Field(None, alias="underlyingProblem")
    parent_problem: list[Ref] | None = Field(None, alias="parentProblem")
    related_event: Objects | None = Field(None, alias="relatedEvent")
    related_entity: Objects | None = Field(None, alias="relatedEntity")
    related_party: Objects | None = Field(None, alias="relatedParty")
    note: Objects | None = None
    characteristic: Objects | None = None
    external_identifier: Objects | None = Field(None, alias="externalIdentifier")
    tracking_record: Objects | None = Field(None, alias="trackingRecord")
    sla_violation: list[Ref] | None = Field(None, alias="slaViolation")
    trouble_ticket: list[Ref] | None = Field(None, alias="troubleTicket")


class ServiceProblemCreateV4(_Problem):
    """ServiceProblem_Create: category, priority, description, reason and originatorParty are mandatory."""

    category: str
    priority: Priority
    description: str
    reason: str
    originator_party: dict[str, Any] = Field(alias="originatorParty")


class ServiceProblemUpdateV4(_Problem):
    pass


class ServiceProblemV4(_Problem):
    id: str
    href: str


class ServiceProblemFVO(ServiceProblemCreateV4):
    """v5 ServiceProblem_FVO: as v4's create, plus `@type` (Extensible)."""

    type_: str = Field(alias="@type")
    error_message: Objects | None = Field(None, alias="errorMessage")


class ServiceProblemMVO(_Problem):
    error_message: Objects | None = Field(None, alias="errorMessage")


class ServiceProblemV5(ServiceProblemMVO):
    id: str
    href: str
    type_: str = Field(alias="@type")


class ProblemGroupInput(Open):
    """ProblemGroup_Create / ProblemUngroup_Create (v4) and their _FVO (v5): both parts mandatory."""

    parent_problem: Ref = Field(alias="parentProblem")
    child_problem: list[Ref] = Field(alias="childProblem", min_length=1)


class HubInput(Open):
    callback: str
    query: str | None = None


class Hub(HubInput):
    id: str


MODELS: list[type[BaseModel]] = [
    ServiceProblemCreateV4,
    ServiceProblemUpdateV4,
    ServiceProblemV4,
    ServiceProblemFVO,
    ServiceProblemMVO,
    ServiceProblemV5,
    ProblemGroupInput,
    HubInput,
    Hub,
]
