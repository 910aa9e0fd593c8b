"""Issue 19, defect 4: the export's file download has one total deadline, takes a link whose query holds ``@`` (an
owner's e-mail in a pre-signed link), and never prints the query (the signature) when it refuses a link."""

from __future__ import annotations

import time

import pytest
from servers import TOKEN, Reply, Seen, scripted

import lucidframes as lf

EXPORT = "/api/v1.2/package-uids-export/"
FILE = b"package_uid,lucid_id\nTAG-1,23456789ABCDEFGHJKLM\nTAG-2,3456789ABCDEFGHJKLMN\n"


def _export_server(link_tail: str, file: bytes = FILE, drip: float | None = None):
    """An API whose export links to ``/files/export.csv<link_tail>`` on itself, served (dripped when asked)."""
    box: dict[str, str] = {}

    def respond(seen: Seen) -> Reply:
        if seen.path == "/o/token/":
            return Reply(200, TOKEN)
        if seen.path == EXPORT:
            return Reply(200, {"export_url": f"{box['url']}/files/export.csv{link_tail}"})
        return Reply(200, file, {"Content-Type": "text/csv"}, drip=drip)

    manager = scripted(respond)

    class Run:
        def __enter__(self):
            server = manager.__enter__()
            box["url"] = server.url
            return server

        def __exit__(self, *exc):
            return manager.__exit__(*exc)

    return Run()


def test_a_dripped_file_ends_at_the_deadline(recorder):
    with _export_server("?X-Signature=s3cr3t", drip=0.25) as server:  # 80 bytes at 4 a second: 20 s
        client = lf.Client(server.url, "cid", "csecret-drip", deadline=1.5, sleep=recorder, rate_limits=None,
                           progress=False)  # fmt: skip
        start = time.monotonic()
        with pytest.raises(lf.RequestTimeoutError) as caught:
            client.load("package_uids_export", export_date="2024-06-01")
        elapsed = time.monotonic() - start
        client.close()
    assert elapsed < 2.5  # the deadline (1.5 s), not the drip's 20 s
    assert "s3cr3t" not in str(caught.value) and "/files/export.csv" in str(caught.value)


def test_a_link_whose_query_holds_an_at_sign_is_downloaded(recorder):
    with _export_server("?owner=ops@dispensary.example&X-Signature=s3cr3t") as server:
        client = lf.Client(server.url, "cid", "csecret-at", sleep=recorder, rate_limits=None, progress=False)
        df = client.load("package_uids_export", export_date="2024-06-01")
        client.close()
        (seen,) = [r for r in server.requests if r.path == "/files/export.csv"]
    assert df["package_uid"].tolist() == ["TAG-1", "TAG-2"]
    assert "owner=ops@dispensary.example" in seen.query and "authorization" not in seen.headers


@pytest.mark.parametrize(
    "url",
    [
        "https://user@files.example.com/x.csv?X-Signature=s3cr3t",  # an @ in the authority: refused
        "http://files.example.com/x.csv?X-Signature=s3cr3t",  # plain http to another host
        "ftp://127.0.0.1/x.csv?X-Signature=s3cr3t",
        "https://files.example.com/x.csv?X-Signature=s3cr3t&note=a b",  # whitespace: not a plain link
        "https://files\\.example.com/x.csv#X-Signature=s3cr3t",
    ],
)
def test_a_refused_link_never_shows_its_query(client, url):
    from lucidframes.loaders.stream import linked_rows

    with pytest.raises(lf.PaginationError, match="Refusing to download") as caught:
        linked_rows(client.transport, {"export_url": url})
    assert "s3cr3t" not in str(caught.value)
