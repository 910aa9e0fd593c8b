"""The sandbox's HTTP contract, request by request, with plain ``requests`` over real sockets on 127.0.0.1.

Auth, pagination, detail endpoints, LucidRetail, and DRF's answers to wrong methods, paths and bodies.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from lucidframes.sandbox import Sandbox

SOURCE = "/api/v1.5/"
RETAIL = "/api/v1.2/"
PRODUCTS = SOURCE + "products/"


def get_token(sb: Sandbox) -> str:
    """A token from the token endpoint."""
    form = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    reply = requests.post(sb.url + "/o/token/", data=form, timeout=5)
    assert reply.status_code == 200
    return str(reply.json()["access_token"])


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[requests.Session]:
    """A session carrying a valid bearer token for the sandbox fixture."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {get_token(sandbox)}"
        yield session


def drain(session: requests.Session, url: str) -> list[dict]:
    """Every page of a list, following ``next``; checks the envelope of each page."""
    pages = []
    while url:
        reply = session.get(url, timeout=5)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert list(body) == ["count", "next", "previous", "results"]
        pages.append(body)
        url = body["next"]
    return pages


# -- authentication ----------------------------------------------------------------------------------------------


def test_token_endpoint_replies_like_django_oauth_toolkit(sandbox):
    form = {"grant_type": "client_credentials", "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    reply = requests.post(sandbox.url + "/o/token/", data=form, timeout=5)
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 36000 and body["scope"] == "read write"
    assert reply.headers["Cache-Control"] == "no-store"


def test_token_endpoint_accepts_http_basic_client_authentication(sandbox):
    reply = requests.post(
        sandbox.url + "/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    )
    assert reply.status_code == 200 and reply.json()["access_token"]


def test_token_endpoint_errors(sandbox):
    url = sandbox.url + "/o/token/"
    wrong = requests.post(
        url, data={"grant_type": "client_credentials", "client_id": sandbox.client_id, "client_secret": "x"}, timeout=5
    )
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    assert wrong.headers["WWW-Authenticate"] == 'Bearer error="invalid_client"'
    grant = requests.post(url, data={"grant_type": "password"}, auth=(sandbox.client_id, sandbox.client_secret))
    assert grant.status_code == 400 and grant.json() == {"error": "unsupported_grant_type"}
    assert requests.get(url, timeout=5).status_code == 405


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer", "Basic dXNlcjpwYXNz", "Token abc"])
def test_api_without_a_valid_token_is_401_without_body(sandbox, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    reply = requests.get(sandbox.url + PRODUCTS, headers=headers, timeout=5)
    assert reply.status_code == 401
    assert reply.content == b""
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_expired_tokens_are_refused(sandbox, api):
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200
    sandbox.expire_tokens()
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 401
    api.headers["Authorization"] = f"Bearer {get_token(sandbox)}"
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200


def test_tokens_expire_after_their_lifetime(sandbox_factory):
    sb = sandbox_factory(token_lifetime=0.2)
    headers = {"Authorization": f"Bearer {get_token(sb)}"}
    assert requests.get(sb.url + PRODUCTS, headers=headers, timeout=5).status_code == 200
    time.sleep(0.25)
    assert requests.get(sb.url + PRODUCTS, headers=headers, timeout=5).status_code == 401


# -- pagination -----------------------------------------------------------------------------------------------------


def test_drain_products_envelope_links_and_rows(sandbox, api):
    pages = drain(api, sandbox.url + PRODUCTS)
    rows = sandbox.list_rows("products")
    assert len(rows) == 1203 and len(pages) == 13
    for number, body in enumerate(pages, start=1):
        assert body["count"] == 1203
        assert len(body["results"]) == (100 if number < 13 else 3)
        expected_next = f"{sandbox.url}{PRODUCTS}?page={number + 1}" if number < 13 else None
        expected_previous = {1: None, 2: sandbox.url + PRODUCTS}.get(
            number, f"{sandbox.url}{PRODUCTS}?page={number - 1}"
        )
        assert body["next"] == expected_next
        assert body["previous"] == expected_previous
    assert [r for body in pages for r in body["results"]] == rows
    assert set(rows[0]) == {"uuid", "name", "sku", "product_type", "is_published", "brand_uuid"}


@pytest.mark.parametrize(("resource", "asset_type"), [("batches", None), *[("assets", t) for t in
                         ("texts", "images", "videos", "files")]])  # fmt: skip
def test_drain_other_lists(sandbox, api, resource, asset_type):
    path = f"{SOURCE}assets/{asset_type}/" if asset_type else f"{SOURCE}{resource}/"
    pages = drain(api, sandbox.url + path)
    assert [r for body in pages for r in body["results"]] == sandbox.list_rows(resource, asset_type=asset_type)


def test_links_keep_other_parameters_sorted_and_drop_page_for_page_one(sandbox, api):
    body = api.get(sandbox.url + PRODUCTS, params={"zeta": "1", "page": "3", "alpha": "é"}, timeout=5).json()
    assert body["next"] == f"{sandbox.url}{PRODUCTS}?alpha=%C3%A9&page=4&zeta=1"
    assert body["previous"] == f"{sandbox.url}{PRODUCTS}?alpha=%C3%A9&page=2&zeta=1"
    second = api.get(sandbox.url + PRODUCTS + "?page=2&zeta=1", timeout=5).json()
    assert second["previous"] == f"{sandbox.url}{PRODUCTS}?zeta=1"


def test_links_follow_the_host_header(sandbox, api):
    body = api.get(sandbox.url + PRODUCTS, headers={"Host": "localhost:1234"}, timeout=5).json()
    assert body["next"] == "http://localhost:1234/api/v1.5/products/?page=2"


def test_page_size_is_configurable(sandbox_factory):
    sb = sandbox_factory(page_size=7, sizes={"products": 20})
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {get_token(sb)}"
        pages = drain(session, sb.url + PRODUCTS)
    assert [len(p["results"]) for p in pages] == [7, 7, 6]


@pytest.mark.parametrize("page", ["0", "-1", "14", "99999", "abc", "2.0", "1e3"])
def test_invalid_pages_are_404(sandbox, api, page):
    reply = api.get(sandbox.url + PRODUCTS, params={"page": page}, timeout=5)
    assert reply.status_code == 404
    assert reply.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize(("page", "first"), [("", 0), ("1", 0), ("13", 1200), ("last", 1200), (" 2", 100)])
def test_pages_django_accepts(sandbox, api, page, first):
    reply = api.get(sandbox.url + PRODUCTS, params={"page": page}, timeout=5)
    assert reply.status_code == 200
    assert reply.json()["results"][0] == sandbox.list_rows("products")[first]


def test_empty_list_has_a_valid_empty_first_page(sandbox_factory):
    sb = sandbox_factory(sizes={"products": 0})
    headers = {"Authorization": f"Bearer {get_token(sb)}"}
    first = requests.get(sb.url + PRODUCTS, headers=headers, timeout=5)
    assert first.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert requests.get(sb.url + PRODUCTS + "?page=2", headers=headers, timeout=5).status_code == 404


# -- detail endpoints ---------------------------------------------------------------------------------------------


def test_detail_endpoints_return_the_full_records(sandbox, api):
    data = sandbox.data
    cases = [
        (f"products/{data['products'][5]['uuid']}/", data["products"][5]),
        (f"batches/{data['batches'][7]['uuid']}/", data["batches"][7]),
        (f"brands/{data['brands'][3]['uuid']}/", data["brands"][3]),
        (f"digital_coas/{data['digital_coas'][0]['uuid']}/", data["digital_coas"][0]),
        (f"items/{data['items'][42]['uuid']}/", data["items"][42]),
        (f"collections/{data['collections'][0]['uuid']}/", data["collections"][0]),
        (f"assets/videos/{data['assets']['videos'][1]['uuid']}/", data["assets"]["videos"][1]),
    ]
    for path, record in cases:
        reply = api.get(sandbox.url + SOURCE + path, timeout=5)
        assert reply.status_code == 200, path
        assert reply.json() == record


def test_collections_by_url_encoded_identifier_and_cases(sandbox, api):
    for found in sandbox.data["collections"][:10]:
        reply = api.get(f"{sandbox.url}{SOURCE}collections/{quote(found['identifier'], safe='')}/", timeout=5)
        assert reply.json() == found, found["identifier"]
    case = next(c for c in sandbox.data["collections"] if c["collection_type"] == "case")
    order = next(c for c in sandbox.data["collections"] if c["collection_type"] == "order")
    assert api.get(f"{sandbox.url}{SOURCE}collections/case/{case['uuid']}/", timeout=5).json() == case
    assert api.get(f"{sandbox.url}{SOURCE}collections/case/{order['uuid']}/", timeout=5).status_code == 404


def test_unknown_ids_are_404_with_drf_detail(sandbox, api):
    reply = api.get(f"{sandbox.url}{PRODUCTS}{'2' * 22}/", timeout=5)
    assert reply.status_code == 404
    assert reply.json() == {"detail": "No Product matches the given query."}
    assert api.get(f"{sandbox.url}{SOURCE}items/{'2' * 20}/", timeout=5).status_code == 404


def test_brands_list_is_a_bare_array(sandbox, api):
    body = api.get(sandbox.url + SOURCE + "brands/", timeout=5).json()
    assert isinstance(body, list)
    assert body == sandbox.list_rows("brands")
    assert set(body[0]) == {"uuid", "name", "state"}


def test_asset_create_and_delete(sandbox, api):
    url = sandbox.url + SOURCE + "assets/texts/create/"
    created = api.post(url, json={"name": "Über", "content": "text ☀", "usage": "description"}, timeout=5)
    assert created.status_code == 201
    new = created.json()
    assert sandbox.list_rows("assets", asset_type="texts")[-1] == new
    image = {"name": "logo", "content": base64.b64encode(b"\x89PNG").decode(), "usage": "about_ingredients"}
    assert api.post(sandbox.url + SOURCE + "assets/images/create/", json=image, timeout=5).status_code == 201

    bad = api.post(url, json={"name": "x", "content": "y", "usage": "marketing"}, timeout=5)
    assert bad.status_code == 400 and bad.json() == {"usage": ['"marketing" is not a valid choice.']}
    missing = api.post(url, json={"usage": "description"}, timeout=5)
    assert missing.json() == {"name": ["This field is required."], "content": ["This field is required."]}

    delete = f"{sandbox.url}{SOURCE}assets/text/{new['uuid']}/delete/"
    gone = api.delete(delete, timeout=5)
    assert gone.status_code == 204 and gone.content == b""
    assert new not in sandbox.list_rows("assets", asset_type="texts")
    assert api.delete(delete, timeout=5).status_code == 404


# -- LucidRetail ------------------------------------------------------------------------------------------------------


def test_retail_batch_adds_testing_laboratories(sandbox, api):
    batch = next(b for b in sandbox.data["batches"] if b["digital_coa_uuids"])
    body = api.get(f"{sandbox.url}{RETAIL}batches/{batch['uuid']}/", timeout=5).json()
    coa = next(c for c in sandbox.data["digital_coas"] if c["uuid"] == batch["digital_coa_uuids"][0])
    assert body == {**batch, "testing_laboratories": body["testing_laboratories"]}
    assert coa["testing_laboratory"] in body["testing_laboratories"]


def _case(sb: Sandbox) -> tuple[str, list[str]]:
    case = next(c for c in sb.data["collections"] if c["collection_type"] == "case")
    return case["uuid"], [row["lucid_id"] for row in case["items"] if row["removed_on"] is None]


def test_add_case_items_to_inventory(sandbox, api):
    case_uuid, members = _case(sandbox)
    url = f"{sandbox.url}{RETAIL}collections/inventory-pos/{'D' * 22}/add-items/"
    ok = api.post(url, json={"case_uuid": case_uuid, "lucid_ids": members[:3]}, timeout=5)
    assert ok.status_code == 200
    identifier = ok.json()["inventory_collection_identifier"]
    outsider = next(i["uuid"] for i in sandbox.data["items"] if i["uuid"] not in members)
    for wrong in (["2" * 20], [members[0], outsider]):
        reply = api.post(url, json={"case_uuid": case_uuid, "lucid_ids": wrong}, timeout=5)
        assert reply.status_code == 400
        assert reply.json() == {"status": "invalid payload", "reason": {"items": ["Unknown LucidID(s)."]}}
    missing = api.post(url, json={"lucid_ids": members[:1]}, timeout=5)
    assert missing.status_code == 400 and missing.json() == {"case_uuid": ["This field is required."]}
    # the public look-up needs no token
    lookup = requests.get(f"{sandbox.url}{RETAIL}collections/inventory-pos/lucid-id/{members[0]}/", timeout=5)
    assert lookup.status_code == 200 and lookup.json()["inventory_collection_identifier"] == identifier
    assert requests.get(f"{sandbox.url}{RETAIL}collections/inventory-pos/lucid-id/{outsider}/").status_code == 404


def test_legacy_caseid_import_reports_validation_errors_with_403(sandbox, api):
    case_uuid, members = _case(sandbox)
    url = f"{sandbox.url}{RETAIL}caseids/import/"
    assert api.post(url, json={"case_uuid": case_uuid, "lucid_ids": members}, timeout=5).json()["status"] == "success"
    reply = api.post(url, json={"case_uuid": case_uuid, "lucid_ids": ["2" * 20]}, timeout=5)
    assert reply.status_code == 403
    assert reply.json() == {"status": "invalid payload", "reason": {"items": ["Unknown LucidID(s)."]}}


def test_transactions_complete(sandbox, api):
    url = f"{sandbox.url}{RETAIL}transactions/complete/"
    known = [i["uuid"] for i in sandbox.data["items"][:2]]
    sale = {"performed_at": "2025-03-01T12:00:00-08:00", "items": known, "order_id": "A-1"}
    ok = api.post(url, json=sale, timeout=5)
    assert ok.status_code == 200 and ok.json()["status"] == "success" and ok.json()["request_id"]
    bad = api.post(url, json={**sale, "items": [known[0], "2" * 20, "not-an-id", "O" * 20]}, timeout=5)
    assert bad.status_code == 400
    assert bad.json() == {
        "status": "invalid payload",
        "reason": {"items": {"invalid": ["not-an-id", "O" * 20], "unknown": ["2" * 20], "valid": [known[0]]}},
    }
    fields = api.post(url, json={"items": known}, timeout=5)
    assert fields.json() == {"performed_at": ["This field is required."], "order_id": ["This field is required."]}
    assert api.post(url, json={**sale, "performed_at": "yesterday"}, timeout=5).status_code == 400
    void = api.post(f"{sandbox.url}{RETAIL}transactions/void/", json={"order_id": "A-1"}, timeout=5)
    assert void.status_code == 200


def test_package_export_is_processing_then_ready(sandbox, api):
    url = f"{sandbox.url}{RETAIL}package-uids-export/"
    assert api.get(url, params={"export_date": "2024-05-01"}, timeout=5).status_code == 202
    ready = api.get(url, params={"export_date": "2024-05-01"}, timeout=5)
    assert ready.status_code == 200 and ready.json()["export_url"].endswith(".csv")
    assert api.get(url, params={"export_date": "May 1"}, timeout=5).status_code == 400
    assert api.get(url, timeout=5).json() == {"error": "export_date is required."}


# -- methods, paths and bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "products/", "GET, HEAD, OPTIONS"),
        ("DELETE", "brands/", "GET, HEAD, OPTIONS"),
        ("POST", "products/", "GET, HEAD, OPTIONS"),
        ("GET", "assets/texts/create/", "POST, OPTIONS"),
        ("PATCH", "assets/text/x/delete/", "DELETE, OPTIONS"),
        ("FROB", "products/", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_method_is_405_with_allow(sandbox, api, method, path, allow):
    reply = api.request(method, sandbox.url + SOURCE + path, timeout=5)
    assert reply.status_code == 405
    assert reply.json() == {"detail": f'Method "{method}" not allowed.'}
    assert reply.headers["Allow"] == allow


def test_head_and_options(sandbox, api):
    head = api.head(sandbox.url + PRODUCTS, timeout=5)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
    options = api.options(sandbox.url + PRODUCTS, timeout=5)
    assert options.status_code == 200 and options.json()["name"] == "Product List"


def test_unknown_paths_are_404_json_and_a_missing_slash_redirects(sandbox, api):
    for path in ("/api/v1.5/nothing/", "/api/v1.5/assets/sounds/", "/", "/api/v9/products/"):
        reply = requests.get(sandbox.url + path, timeout=5)
        assert reply.status_code == 404 and reply.json() == {"detail": "Not found."}, path
    moved = api.get(sandbox.url + "/api/v1.5/products?page=2", allow_redirects=False, timeout=5)
    assert moved.status_code == 301 and moved.headers["Location"] == "/api/v1.5/products/?page=2"


def test_bad_bodies_get_drf_errors(sandbox, api):
    url = f"{sandbox.url}{RETAIL}transactions/complete/"
    broken = api.post(url, data=b'{"items": [', headers={"Content-Type": "application/json"}, timeout=5)
    assert broken.status_code == 400 and broken.json()["detail"].startswith("JSON parse error - ")
    binary = api.post(url, data=b"\xff\xfe", headers={"Content-Type": "application/json"}, timeout=5)
    assert binary.status_code == 400 and binary.json()["detail"].startswith("JSON parse error - ")
    plain = api.post(url, data=b"hello", headers={"Content-Type": "text/plain"}, timeout=5)
    assert plain.status_code == 415 and plain.json() == {"detail": 'Unsupported media type "text/plain" in request.'}
    listed = api.post(url, json=[1, 2], timeout=5)
    assert listed.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert api.get(sandbox.url + PRODUCTS, timeout=5).status_code == 200


def test_form_encoded_bodies_are_accepted(sandbox, api):
    case_uuid, members = _case(sandbox)
    url = f"{sandbox.url}{RETAIL}collections/inventory-pos/{'D' * 22}/add-items/"
    reply = api.post(url, data={"case_uuid": case_uuid, "lucid_ids": members[:2]}, timeout=5)
    assert reply.status_code == 200
