"""The customer inventory: imported from JSON and CSV through the CLI (all or nothing, upsert by id, errors
naming file, line and attribute) and exposed read-only as TMF629/637/638/632 resources."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from troubleflow.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "inventory.json"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
PRODUCTS = "/tmf-api/productInventory/v4/product"
SERVICES = "/tmf-api/serviceInventory/v4/service"
PARTNERS = "/tmf-api/partyManagement/v4/organization"


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def test_a_json_document_imports_every_kind_and_the_api_shows_them(
    db: object, database_url: str, client: TestClient
) -> None:
    code, out = run(database_url, "inventory", "import", str(EXAMPLE))

    assert code == 0, out
    assert "imported 1 partner, 2 customers, 2 products, 3 services" in out
    product = client.get(f"{PRODUCTS}/prod-9").json()
    assert product["@type"] == "Product"
    assert product["href"] == f"http://testserver{PRODUCTS}/prod-9"
    assert product["productOffering"] == {"id": "fibre-250-tv", "@referredType": "ProductOffering"}
    assert [(p["id"], p["role"]) for p in product["relatedParty"]] == [
        ("cust-42", "customer"),
        ("fibrenet", "partner"),
    ]
    assert [s["id"] for s in product["realizingService"]] == ["svc-9-inet", "svc-9-iptv"]
    service = client.get(f"{SERVICES}/svc-9-iptv").json()
    assert service["serviceSpecification"]["id"] == "iptv"
    assert service["relatedEntity"][0] | {"href": ""} == {
        "id": "prod-9",
        "href": "",
        "role": "realizes",
        "@referredType": "Product",
    }
    partner = client.get(f"{PARTNERS}/fibrenet").json()
    assert partner["@type"] == "Organization"
    assert partner["partyCharacteristic"] == [
        {"name": "restorationTime", "value": "PT8H", "valueType": "string"}
    ]


def test_a_csv_file_imports_one_kind_named_by_its_file(
    db: object, database_url: str, client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,segment,slaClass,region,contactName,contactEmail,contactPhone\n"
        "cust-101,Grace Hopper,residential,,berlin,,grace@example.org,+49 170 0000101\n"
    )

    code, out = run(database_url, "inventory", "import", str(path))

    assert code == 0, out
    customer = client.get(f"{CUSTOMERS}/cust-101").json()
    assert customer["name"] == "Grace Hopper"
    assert customer["characteristic"] == [
        {"name": "segment", "value": "residential", "valueType": "string"},
        {"name": "region", "value": "berlin", "valueType": "string"},
    ]
    assert customer["contactMedium"] == [
        {"mediumType": "email", "characteristic": {"emailAddress": "grace@example.org"}},
        {"mediumType": "phone", "characteristic": {"phoneNumber": "+49 170 0000101"}},
    ]


def test_importing_again_overwrites_by_id(
    db: object, database_url: str, client: TestClient, tmp_path: Path
) -> None:
    run(database_url, "inventory", "import", str(EXAMPLE))
    path = tmp_path / "p.csv"
    path.write_text("id,customerId,name,status\nprod-9,cust-42,Fibre 500 + TV,suspended\n")

    code, out = run(database_url, "inventory", "import", "--kind", "product", str(path))

    assert code == 0, out
    r = client.get(PRODUCTS)
    assert r.headers["X-Total-Count"] == "2"
    product = client.get(f"{PRODUCTS}/prod-9").json()
    assert (product["name"], product["status"]) == ("Fibre 500 + TV", "suspended")
    assert "productOffering" not in product  # the record is replaced, not merged


def test_a_bad_import_changes_nothing_and_names_file_line_and_attribute(
    db: object, database_url: str, client: TestClient, tmp_path: Path
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\ncust-1,Good Customer\n")
    products = tmp_path / "products.csv"
    products.write_text(
        "id,customerId,name,status\n"
        "prod-1,cust-1,Fibre,active\n"
        "prod-2,cust-1,Fibre,switchedOff\n"
        "prod-3,cust-1,,active\n"
    )

    code, out = run(database_url, "inventory", "import", str(customers), str(products))

    assert code == 1
    assert "products.csv:3: 'status'" in out
    assert "products.csv:4: 'name'" in out
    assert client.get(CUSTOMERS).headers["X-Total-Count"] == "0"
    assert client.get(PRODUCTS).headers["X-Total-Count"] == "0"


def test_a_reference_to_an_unknown_record_refuses_the_import(
    db: object, database_url: str, client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "inv.json"
    path.write_text(
        json.dumps(
            {
                "customer": [{"id": "cust-1", "name": "A"}],
                "product": [{"id": "prod-1", "customerId": "cust-2", "name": "Fibre"}],
            }
        )
    )

    code, out = run(database_url, "inventory", "import", str(path))

    assert code == 1
    assert "inv.json: product[0] (id 'prod-1'): 'customerId' names customer 'cust-2'" in out
    assert client.get(CUSTOMERS).headers["X-Total-Count"] == "0"


def test_unknown_attributes_and_broken_json_are_named(db: object, database_url: str, tmp_path: Path) -> None:
    typo = tmp_path / "inv.json"
    typo.write_text(json.dumps({"customer": [{"id": "c", "name": "A", "slaclass": "gold"}]}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"customer": [\n  {"id": "c",}\n]}')

    _, out = run(database_url, "inventory", "import", str(typo))
    assert "inv.json: customer[0] (id 'c'): 'slaclass' is not an attribute of this kind" in out
    code, out = run(database_url, "inventory", "import", str(broken))
    assert code == 1 and "broken.json:2: not valid JSON" in out


def test_the_inventory_is_paged_with_offset_limit_and_total_count(
    db: object, database_url: str, client: TestClient
) -> None:
    run(database_url, "inventory", "import", str(EXAMPLE))

    r = client.get(SERVICES, params={"offset": 1, "limit": 1, "fields": "name"})

    assert r.status_code == 206
    assert (r.headers["X-Total-Count"], r.headers["X-Result-Count"]) == ("3", "1")
    assert r.json() == [
        {
            "id": "svc-9-inet",  # id order: svc-10-inet, svc-9-inet, svc-9-iptv
            "href": f"http://testserver{SERVICES}/svc-9-inet",
            "@type": "Service",
            "name": "Internet access",
        }
    ]
    whole = client.get(CUSTOMERS)
    assert whole.status_code == 200 and [c["id"] for c in whole.json()] == ["cust-42", "cust-77"]
    assert (
        client.get(CUSTOMERS, params={"name": "Ada"}).status_code == 400
    )  # no filters: not silently ignored


def test_an_unknown_id_is_a_tmf_404(db: object, client: TestClient) -> None:
    r = client.get(f"{CUSTOMERS}/nobody")

    assert r.status_code == 404
    assert r.json() | {"message": ""} == {
        "@type": "Error",
        "code": "notFound",
        "reason": "Not Found",
        "message": "",
        "status": "404",
    }


def test_the_inventory_resources_are_read_only(db: object, database_url: str, client: TestClient) -> None:
    run(database_url, "inventory", "import", str(EXAMPLE))

    for path in (CUSTOMERS, PRODUCTS, SERVICES, PARTNERS):
        assert client.post(path, json={"id": "x", "name": "y"}).status_code == 405
    for method in ("PATCH", "DELETE", "PUT"):
        r = client.request(method, f"{CUSTOMERS}/cust-42", json={"name": "z"})
        assert r.status_code == 405
        assert r.json()["@type"] == "Error" and r.json()["status"] == "405"
    assert client.get(f"{CUSTOMERS}/cust-42").json()["name"] == "Ada Lovelace"


def test_cli_lists_and_shows_inventory_records(db: object, database_url: str) -> None:
    run(database_url, "inventory", "import", str(EXAMPLE))

    code, out = run(database_url, "inventory", "list", "product")
    assert code == 0 and "prod-10" in out and "prod-9" in out and "(2 of 2)" in out
    code, out = run(database_url, "inventory", "show", "partner", "fibrenet")
    assert code == 0 and json.loads(out)["name"] == "FibreNet Wholesale GmbH"
    code, out = run(database_url, "inventory", "show", "customer", "nobody")
    assert code == 1 and "no customer with id 'nobody'" in out


def test_edge_paging_and_ids_get_a_client_answer(db: object, client: TestClient) -> None:
    assert client.get(CUSTOMERS, params={"offset": str(2**64)}).status_code == 400
    assert client.get(CUSTOMERS, params={"limit": "ten"}).status_code == 400
    assert client.get(f"{PRODUCTS}/a%00b").status_code == 404
