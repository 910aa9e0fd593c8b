"""The plain side of a Client: its transport's settings, and requests sent as they are (no loader around them).

``Client`` extends ``Connection`` with the loaders (load, lookup, plan, submit); everything here goes through the
one send loop of ``lucidframes._http.transport`` with the client's auth, retries and rate limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from lucidframes._http.auth import TokenProvider
from lucidframes._http.retry import RetryPolicy
from lucidframes._http.transport import Reply, Transport
from lucidframes.endpoints import get_endpoint, path_segment
from lucidframes.errors import ConfigError

__all__ = ["Connection"]


class Connection:
    """A transport's settings and plain requests (``Client`` is one, with the loaders on top)."""

    transport: Transport

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()

    @property
    def auth(self) -> TokenProvider:
        """The token provider (client credentials or a fixed token)."""
        return self.transport.auth

    @property
    def session(self) -> requests.Session:
        """The pooled requests.Session."""
        return self.transport.session

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds."""
        return self.transport.timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy."""
        return self.transport.retry

    # -- raw requests -------------------------------------------------------------------------------------

    def url_for(self, path: str, product: str = "source") -> str:
        """The absolute URL of an API path such as ``products/`` for a product ("source" or "retail").

        Args:
            path: the path below the product's version prefix.
            product: "source" or "retail".

        Returns:
            The absolute URL on the configured base.
        """
        return self.transport.url(path, product)

    def get_json(self, path: str, *, product: str = "source", params: Mapping[str, Any] | None = None) -> Any:
        """GET an API path and return its parsed JSON body (retried per the policy).

        Args:
            path: path below the product's prefix.
            product: "source" or "retail".
            params: query parameters.

        Returns:
            The decoded JSON.
        """
        return self.transport.send("GET", path, product=product, params=params).payload

    def post_json(self, path: str, body: Any, *, product: str = "source") -> Any:
        """POST a JSON body to an API path and return the parsed JSON answer (None for an empty one).

        Args:
            path: path below the product's prefix.
            body: the JSON-serialisable payload.
            product: "source" or "retail".

        Returns:
            The decoded JSON, or None for an empty body.
        """
        return self.transport.send("POST", path, product=product, json_body=body).payload

    def request(
        self,
        method: str,
        path: str,
        *,
        product: str = "source",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Reply:
        """Send any request with the client's auth, retries and rate limit; return the Reply.

        Args:
            method: the HTTP method.
            path: path below the product's prefix.
            product: "source" or "retail".
            params: query parameters.
            json: a JSON payload.

        Returns:
            The successful Reply (status, payload, headers, request_id, history).
        """
        return self.transport.send(method, path, product=product, params=params, json_body=json)

    def delete(self, name: str, id_: str) -> Reply:
        """Delete a resource through a registered deletion (``text_asset_delete``); the API answers 204.

        Args:
            name: a registered endpoint with a deletion.
            id_: the resource's uuid.

        Returns:
            The Reply (status 204, no payload).
        """
        ep = get_endpoint(name)
        if ep.delete_path is None:
            raise ConfigError(f"Endpoint {name!r} deletes nothing; deletions: text_asset_delete.")
        path_segment(id_, "id_", "uuid")  # only a well-formed uuid: never a dot segment or the list path
        path = ep.format_path(ep.delete_path, {}, id_=id_)
        return self.transport.send("DELETE", path, product=ep.product, bucket=ep.bucket, endpoint=ep.name)
