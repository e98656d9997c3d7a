"""Create Customer Problem Report (1.3.7.5) driven through the public API: the configuration snapshot from the
customer inventory (1.3.7.5.2), the inventory's SLA class feeding Track & Manage, and the major-outage
check linking a new report to an open master (1.3.7.5.3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from troubleflow import inventory_files
from troubleflow.cli import main
from troubleflow.processes import inventory
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database

from .conftest import SPECS, api, ticket_body

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "inventory.json"
MERGE = {"Content-Type": "application/merge-patch+json"}
SPEC_FILE = "TMF621-Trouble_Ticket-v5.0.1.oas.yaml"


@pytest.fixture
def stocked(db: Database) -> Database:
    """The worked example's inventory: cust-42 (bronze, Berlin) with prod-9 (partner fibrenet; services
    svc-9-inet ftth-access and svc-9-iptv iptv); cust-77 (silver) with prod-10 (gold) and svc-10-inet."""
    inventory.import_inventory(db, inventory_files.read(EXAMPLE))
    return db


def _create(client: TestClient, version: str = "v4", **overrides: Any) -> dict[str, Any]:
    r = client.post(api(version) + "/troubleTicket", json=ticket_body(version, **overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _get(client: TestClient, ticket_id: str, version: str = "v4") -> dict[str, Any]:
    return client.get(f"{api(version)}/troubleTicket/{ticket_id}").json()  # type: ignore[no-any-return]


def _entity(entity_id: str, referred: str, role: str) -> dict[str, str]:
    return {"id": entity_id, "role": role, "@referredType": referred}


def _trail(db: Database, ticket_id: str) -> list[tuple[str, str, str | None]]:
    return [(h.process_id, h.action, h.reason) for h in report_history(db, ticket_id)]


def _master(client: TestClient, *entities: dict[str, str]) -> dict[str, Any]:
    return _create(
        client,
        name="IPTV platform down",
        description="Major outage: IPTV middleware cluster down",
        severity="Critical",
        majorOutage=True,
        relatedParty=[],
        relatedEntity=list(entities),
    )


def test_a_new_report_keeps_a_snapshot_of_the_customers_configuration(
    client: TestClient, stocked: Database
) -> None:
    report = _create(client)  # names cust-42 and prod-9

    snapshot = report["configurationSnapshot"]
    assert snapshot["customer"] == {
        "id": "cust-42",
        "name": "Ada Lovelace",
        "segment": "residential",
        "region": "berlin",
        "slaClass": "bronze",
    }
    [product] = snapshot["product"]
    assert (product["id"], product["productOffering"], product["region"]) == (
        "prod-9",
        "fibre-250-tv",
        "berlin",
    )
    assert product["partner"] == {
        "id": "fibrenet",
        "name": "FibreNet Wholesale GmbH",
        "restorationTime": "PT8H",
    }
    assert [s["id"] for s in product["service"]] == ["svc-9-inet", "svc-9-iptv"]
    assert (snapshot["region"], snapshot["slaClass"]) == ("berlin", "bronze")
    assert ("1.3.7.5.2", "configurationObtained") in [t[:2] for t in _trail(stocked, report["id"])]


def test_the_snapshot_is_shown_in_v5_too_and_does_not_follow_later_inventory_changes(
    client: TestClient, stocked: Database, tmp_path: Path
) -> None:
    report = _create(client, "v5")
    path = tmp_path / "products.csv"
    path.write_text("id,customerId,name\nprod-9,cust-42,Renamed product\n")
    inventory.import_inventory(stocked, inventory_files.read(path))

    shown = _get(client, report["id"], "v5")

    assert shown["configurationSnapshot"] == report["configurationSnapshot"]
    assert shown["configurationSnapshot"]["product"][0]["name"] == "Fibre 250 + TV"
    assert _get(client, report["id"], "v4")["configurationSnapshot"] == shown["configurationSnapshot"]


def test_the_snapshot_is_server_owned(client: TestClient, stocked: Database) -> None:
    report = _create(client)
    forged = {**report["configurationSnapshot"], "slaClass": "gold"}

    r = client.patch(
        f"{api('v4')}/troubleTicket/{report['id']}", json={"configurationSnapshot": forged}, headers=MERGE
    )

    assert r.status_code == 400 and "configurationSnapshot" in r.json()["message"]
    created = _create(
        client, configurationSnapshot={"customer": {"id": "forged"}}, relatedParty=[], relatedEntity=[]
    )
    assert "configurationSnapshot" not in created  # a client cannot send one either


def test_the_inventory_sla_class_feeds_the_restoration_commitment(
    client: TestClient, stocked: Database
) -> None:
    report = _create(
        client,
        relatedParty=[{"id": "cust-77", "role": "customer", "@referredType": "Organization"}],
        relatedEntity=[_entity("prod-10", "Product", "affectedProduct")],
    )

    assert (
        report["configurationSnapshot"]["slaClass"] == "gold"
    )  # the product's own, over the customer's silver
    assert (report["slaClass"], report["diagnosis"]["priority"]) == ("gold", "P2")  # priority High
    assert report["restorationCommitment"] == "2026-03-02T17:00:00.000Z"  # gold P2: PT8H on the 24x7 calendar


def test_a_client_sla_class_wins_over_the_inventory(client: TestClient, stocked: Database) -> None:
    report = _create(client, slaClass="silver")

    assert report["slaClass"] == "silver"
    assert report["configurationSnapshot"]["slaClass"] == "bronze"


def test_an_unknown_customer_is_recorded_not_refused(client: TestClient, stocked: Database) -> None:
    report = _create(
        client,
        relatedParty=[{"id": "cust-999", "role": "customer", "@referredType": "Individual"}],
        relatedEntity=[_entity("prod-404", "Product", "affectedProduct")],
    )

    assert "configurationSnapshot" not in report
    assert report["slaClass"] == "bronze"  # the policy default
    assert (
        "1.3.7.5.2",
        "noInventoryMatch",
        "no inventory match for product prod-404, customer cust-999",
    ) in _trail(stocked, report["id"])


def test_a_new_report_on_a_masters_service_becomes_its_child(client: TestClient, stocked: Database) -> None:
    master = _master(client, _entity("iptv", "ServiceSpecification", "affectedService"))
    assert (master["majorOutage"], master["majorOutageChildCount"]) == (True, 0)
    eta = "2026-03-03T18:00:00.000Z"  # the NOC's estimate for the whole outage
    r = client.patch(
        f"{api('v4')}/troubleTicket/{master['id']}",
        json={"expectedResolutionDate": eta},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text

    child = _create(client, relatedEntity=[_entity("svc-9-iptv", "Service", "affectedService")])

    assert child["troubleTicketRelationship"] == [
        {"id": master["id"], "name": "IPTV platform down", "relationshipType": "isChildOf"}
    ]
    assert _get(client, master["id"])["majorOutageChildCount"] == 1
    assert child["expectedResolutionDate"] == eta  # the child inherits the outage's ETA
    v5 = _get(client, child["id"], "v5")["troubleTicketRelationship"]
    assert v5[0]["@type"] == "TroubleTicketRelationship" and v5[0]["relationshipType"] == "isChildOf"
    assert (
        "1.3.7.5.3",
        "linkedToMaster",
        f"child of major outage {master['id']} (serviceSpecification iptv)",
    ) in _trail(stocked, child["id"])
    assert (
        "1.3.7.5.3",
        "childAdded",
        f"child {child['id']} (serviceSpecification iptv); 1 linked",
    ) in _trail(stocked, master["id"])


def test_a_report_naming_a_product_is_linked_to_a_master_of_one_of_its_services(
    client: TestClient, stocked: Database
) -> None:
    master = _master(client, _entity("svc-9-inet", "Service", "affectedService"))

    child = _create(client)  # names prod-9, whose services include svc-9-inet
    other = _create(
        client,
        relatedParty=[{"id": "cust-77", "role": "customer", "@referredType": "Organization"}],
        relatedEntity=[_entity("prod-10", "Product", "affectedProduct")],
    )

    assert child["troubleTicketRelationship"][0]["id"] == master["id"]
    assert "troubleTicketRelationship" not in other
    assert _get(client, master["id"])["majorOutageChildCount"] == 1


def test_a_closed_or_cancelled_master_attracts_no_children(client: TestClient, stocked: Database) -> None:
    master = _master(client, _entity("iptv", "ServiceSpecification", "affectedService"))
    r = client.patch(
        f"{api('v4')}/troubleTicket/{master['id']}",
        json={"status": "cancelled", "statusChangeReason": "duplicate of the platform ticket"},
        headers=MERGE,
    )
    assert r.status_code == 200, r.text

    child = _create(client, relatedEntity=[_entity("svc-9-iptv", "Service", "affectedService")])

    assert "troubleTicketRelationship" not in child
    assert _get(client, master["id"])["majorOutageChildCount"] == 0


def test_major_outage_is_a_boolean_set_on_create_only(client: TestClient, stocked: Database) -> None:
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", majorOutage="yes"))
    assert r.status_code == 400 and "majorOutage" in r.json()["message"]
    r = client.post(api("v4") + "/troubleTicket", json=ticket_body("v4", majorOutage=True, relatedEntity=[]))
    assert r.status_code == 400 and "relatedEntity" in r.json()["message"]
    report = _create(client)
    r = client.patch(f"{api('v4')}/troubleTicket/{report['id']}", json={"majorOutage": True}, headers=MERGE)
    assert r.status_code == 400 and "majorOutage" in r.json()["message"]


def test_an_open_report_declared_a_major_outage_by_cli_attracts_children(
    client: TestClient, stocked: Database, database_url: str
) -> None:
    report = _create(
        client,
        relatedParty=[],
        relatedEntity=[_entity("svc-10-inet", "Service", "affectedService")],
    )
    runner = CliRunner()

    result = runner.invoke(main, ["--database-url", database_url, "outage", "declare", report["id"]])
    assert result.exit_code == 0, result.output
    assert "covering service svc-10-inet" in result.output
    child = _create(
        client,
        relatedParty=[{"id": "cust-77", "role": "customer", "@referredType": "Organization"}],
        relatedEntity=[_entity("prod-10", "Product", "affectedProduct")],
    )

    assert child["troubleTicketRelationship"][0]["id"] == report["id"]
    result = runner.invoke(main, ["--database-url", database_url, "outage", "children", report["id"]])
    assert child["id"] in result.output and "(1 child report)" in result.output
    result = runner.invoke(main, ["--database-url", database_url, "outage", "declare", report["id"]])
    assert result.exit_code == 1 and "already a major outage" in result.output


def test_the_master_tells_subscribers_its_child_count(client: TestClient, stocked: Database) -> None:
    master = _master(client, _entity("iptv", "ServiceSpecification", "affectedService"))
    _create(client, relatedEntity=[_entity("svc-9-iptv", "Service", "affectedService")])

    from troubleflow.storage.tables import outbox

    with stocked.read() as conn:
        rows = conn.execute(outbox.select().where(outbox.c.ticket_id == master["id"])).mappings().all()
    changed = [r for r in rows if r["kind"] == "attributesChanged"]
    assert [json.loads(r["fields"]) for r in changed] == [["majorOutageChildCount"]]
    assert json.loads(changed[0]["payload"])["intake"]["child_count"] == 1


@pytest.mark.skipif(not (SPECS / SPEC_FILE).exists(), reason="official TMF621 v5 spec not found")
def test_a_child_with_its_snapshot_conforms_to_the_v5_spec(client: TestClient, stocked: Database) -> None:
    from tests.spec_validator import OpenApiSpec

    spec = OpenApiSpec.load(SPECS / SPEC_FILE)
    master = _master(client, _entity("iptv", "ServiceSpecification", "affectedService"))
    child = _create(client, "v5")  # names prod-9, whose svc-9-iptv is an iptv service

    assert child["troubleTicketRelationship"][0]["id"] == master["id"]
    spec.validate_response("/troubleTicket/{id}", "get", 200, _get(client, child["id"], "v5"))
    spec.validate_response("/troubleTicket/{id}", "get", 200, _get(client, master["id"], "v5"))
