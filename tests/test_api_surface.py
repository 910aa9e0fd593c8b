"""The rest of the API surface (issue 13): the DELETE endpoint, request ids of 200 bodies, and 200s that say failure."""

from __future__ import annotations

import logging

import pytest

import lucidframes as lf

CASEIDS = "/api/v1.2/caseids/import/"


def a_case(sb):
    case = next(c for c in sb.data["collections"] if c["collection_type"] == "case" and c["items"])
    return case["uuid"], [i["lucid_id"] for i in case["items"] if i["removed_on"] is None][:2]


def test_delete_a_text_asset(sandbox, client):
    assert lf.ENDPOINTS["text_asset_delete"].methods == ("DELETE",)
    created = client.submit(
        "assets", {"name": "n", "content": "c", "description": "d", "usage": "description"}, asset_type="texts"
    )
    reply = client.delete("text_asset_delete", created["uuid"])
    assert reply.status == 204 and reply.payload is None
    entry = sandbox.log[-1]
    assert (entry.method, entry.path, entry.status) == (
        "DELETE",
        f"/api/v1.5/assets/text/{created['uuid']}/delete/",
        204,
    )
    assert client.lookup("assets", [created["uuid"]], asset_type="texts")["_status"].tolist() == ["not_found"]
    with pytest.raises(lf.NotFoundError):
        client.delete("text_asset_delete", created["uuid"])  # a second time: gone


def test_delete_refuses_what_it_cannot_delete(client):
    with pytest.raises(lf.ConfigError, match="deletes nothing"):
        client.delete("products", "x")
    with pytest.raises(lf.ConfigError, match="uuid"):
        client.delete("text_asset_delete", "")


def test_request_id_is_returned_logged_and_in_the_history(sandbox, client, caplog):
    case, ids = a_case(sandbox)
    with caplog.at_level(logging.INFO, logger="lucidframes"):
        body = client.submit("caseids_import", {"case_uuid": case, "lucid_ids": ids})
    assert body["status"] == "success" and len(body["request_id"]) == 32
    logged = [r for r in caplog.records if getattr(r, "event", None) == "request_id"]
    assert [r.request_id for r in logged] == [body["request_id"]]  # type: ignore[attr-defined]
    assert logged[0].levelno == logging.INFO
    reply = client.request("POST", "caseids/import/", product="retail", json={"case_uuid": case, "lucid_ids": ids})
    assert reply.request_id == reply.payload["request_id"] and reply.history[-1].request_id == reply.request_id


def test_a_200_that_says_failure_is_not_taken_as_success(sandbox, client, recorder):
    case, ids = a_case(sandbox)
    sandbox.fault(CASEIDS, status=200, body={"status": "failed", "request_id": "r-17"}, method="POST")
    with pytest.raises(lf.UnsuccessfulReplyError) as info:
        client.submit("caseids_import", {"case_uuid": case, "lucid_ids": ids})
    err = info.value
    assert err.status_code == 200 and err.body == {"status": "failed", "request_id": "r-17"}
    assert "r-17" in str(err) and "'failed'" in str(err)
    assert [a.request_id for a in err.history] == ["r-17"]
    assert recorder.waits == []  # not retried: a submission may have acted
    assert len([e for e in sandbox.log if e.path == CASEIDS]) == 1


def test_a_200_that_says_invalid_payload_is_a_validation_error(sandbox, client):
    case, ids = a_case(sandbox)
    body = {"status": "invalid payload", "reason": {"case_uuid": ["Unknown case."]}}
    sandbox.fault(CASEIDS, status=200, body=body, method="POST")
    with pytest.raises(lf.BadRequestError) as info:
        client.submit("caseids_import", {"case_uuid": case, "lucid_ids": ids})
    assert info.value.reasons == {"case_uuid": ["Unknown case."]}


def test_a_get_body_with_a_status_field_is_data(sandbox, client):
    item = sandbox.data["items"][0]
    sandbox.fault(f"/api/v1.5/items/{item['uuid']}/", status=200, body={**item, "status": "voided"})
    df = client.lookup("items", [item["uuid"]], flatten=False)
    assert df["_status"].tolist() == ["ok"] and df["status"].tolist() == ["voided"]
