"""Issue 19, defect 3: a 2xx body that is not the resource the registry describes is retried like a 5xx for GETs,
then a DecodeError naming what came back: never a row, never cached (look-ups and the package export)."""

from __future__ import annotations

import pytest
from servers import TOKEN, Reply, Seen, scripted

import lucidframes as lf

EXPORT = "/api/v1.2/package-uids-export/"


def _a_product(sb) -> str:
    return str(sb.list_rows("products")[0]["uuid"])


def test_a_proxys_detail_is_not_an_ok_row_and_is_not_cached(sandbox_factory, recorder, tmp_path):
    sb = sandbox_factory()
    uuid = _a_product(sb)
    sb.fault(f"/api/v1.5/products/{uuid}/", status=200, body={"detail": "upstream timed out"}, times=None)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                       retry=lf.RetryPolicy(max_retries=2), cache=tmp_path)  # fmt: skip
    with pytest.raises(lf.DecodeError) as caught:
        client.lookup("products", [uuid])
    assert recorder.waits == [1, 2]  # retried like a 5xx: a proxy's hiccup may pass
    text = str(caught.value)
    assert "upstream timed out" in text and "products" in text and "uuid" in text
    assert caught.value.partial["_status"].tolist() == ["pending"]  # never an "ok" row of nulls
    sb.clear_faults()
    again = client.lookup("products", [uuid], max_age="1h")  # nothing was cached: it is asked again
    assert again["_status"].tolist() == ["ok"] and again.attrs["lucidframes"]["requests"] == 1
    assert again["name"].notna().all()


def test_one_bad_answer_is_retried_and_the_real_one_kept(sandbox, client, recorder):
    uuid = _a_product(sandbox)
    sandbox.fault(f"/api/v1.5/products/{uuid}/", status=200, body={}, times=1)
    found = client.lookup("products", [uuid])
    assert found["_status"].tolist() == ["ok"] and found["uuid"].tolist() == [uuid]
    assert recorder.waits == [1]


@pytest.mark.parametrize("body", [{"detail": "Service temporarily unavailable"}, {"export_url": None}, 5, {}, [], None])
def test_an_export_answer_without_its_link_is_never_rows(sandbox_factory, recorder, body):
    sb = sandbox_factory()
    sb.fault(EXPORT, status=200, body=body, times=None)
    client = lf.Client(sb.url, sb.client_id, sb.client_secret, sleep=recorder, rate_limits=None, progress=False,
                       retry=lf.RetryPolicy(max_retries=1))  # fmt: skip
    with pytest.raises(lf.DecodeError) as caught:
        client.load("package_uids_export", export_date="2024-06-01")
    assert recorder.waits == [1]
    assert caught.value.partial is None or len(caught.value.partial) == 0
    if isinstance(body, dict) and "detail" in body:
        assert "Service temporarily unavailable" in str(caught.value)


@pytest.mark.parametrize("file", [b"<html><body>Access Denied</body></html>", b"", b"\xef\xbb\xbf", b"uid,when\nx,y\n"])
def test_a_linked_file_that_is_not_the_export_is_a_decode_error(recorder, file):
    box: dict[str, str] = {}

    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/":
            return Reply(200, TOKEN)
        if seen.path == EXPORT:
            return Reply(200, {"export_url": f"{box['url']}/files/export.csv?X-Signature=s3cr3t"})
        return Reply(200, file, {"Content-Type": "text/csv"})

    with scripted(respond) as server:
        box["url"] = server.url
        client = lf.Client(server.url, "cid", "csecret-linked", sleep=recorder, rate_limits=None, progress=False)
        with pytest.raises(lf.DecodeError) as caught:
            client.load("package_uids_export", export_date="2024-06-01")
        client.close()
    text = str(caught.value)
    assert "not the export's CSV" in text and "package_uid" in text and "s3cr3t" not in text


def test_a_real_export_still_loads(sandbox, client):
    df = client.load("package_uids_export", export_date="2024-06-01")
    assert {"package_uid", "lucid_id"} <= set(df.columns)
