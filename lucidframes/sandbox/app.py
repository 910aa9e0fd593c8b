"""The application behind the sandbox's HTTP server: routing, auth, throttling and the token endpoint.

The order of checks is Django's and DRF's: an unknown path is 404 before anything else (a path missing only its
trailing slash is redirected, as APPEND_SLASH does); then authentication (401), throttling (429), the method (405),
and only then the view, which may fail on the body (400/415) or the lookup (404). The data the views read and
change is the ``State`` this class extends; the views and the URL table are imported like any other module.
"""

from __future__ import annotations

import base64
import hmac
from urllib.parse import parse_qs, unquote, unquote_plus

from lucidframes.sandbox.data import Dataset
from lucidframes.sandbox.messages import Headers, Reply, Request, Response, detail, empty, json_response
from lucidframes.sandbox.routes import FILES, ROUTES
from lucidframes.sandbox.state import State
from lucidframes.sandbox.throttle import Limits, Throttle, throttled_detail
from lucidframes.sandbox.tokens import TokenStore, bearer
from lucidframes.sandbox.views import Route

__all__ = ["TOKEN_PATH", "App"]

TOKEN_PATH = "/o/token/"
AUTHENTICATE = ("WWW-Authenticate", 'Bearer realm="api"')


class App(State):
    """The sandbox's request handling, over its state."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        seed: int,
        page_size: int,
        token_lifetime: float,
        limits: Limits,
        client_id: str,
        client_secret: str,
    ) -> None:
        super().__init__(dataset, seed=seed, page_size=page_size)
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens = TokenStore(token_lifetime)
        self.throttle = Throttle(limits)
        self.routes: tuple[Route, ...] = ROUTES
        self.files = FILES

    # --- requests ----------------------------------------------------------------------------------------------

    def resolve(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route of a path and its decoded parameters, or None."""
        for candidate in self.routes:
            match = candidate.pattern.fullmatch(path)
            if match:
                return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def client_of(self, headers: Headers) -> str | None:
        """The client id of a request's bearer token, if the token is valid now."""
        return self.tokens.client_for(bearer(headers.get("Authorization")))

    def handle(self, request: Request) -> Response:
        """Answer one request (the HTTP layer drops the body of HEAD answers)."""
        if request.path == TOKEN_PATH:
            return self.token(request)
        for prefix, view in self.files:  # files that links point to (no token: the link is the permission)
            if request.path.startswith(prefix):
                return view(self, request)
        found = self.resolve(request.path)
        if found is None:
            slashed = request.path + "/"
            if not request.path.endswith("/") and (slashed == TOKEN_PATH or self.resolve(slashed)):
                location = request.path + "/" + (f"?{request.query}" if request.query else "")
                return empty(301, [("Location", location)])
            return detail(404, "Not found.")
        target, params = found
        common = [("Allow", ", ".join(target.allowed)), ("Vary", "Accept")]  # DRF sends these on every answer
        response = self._dispatch(request, target, params)
        response.headers.extend(h for h in common if response.header(h[0]) is None)
        return response

    def _dispatch(self, request: Request, target: Route, params: dict[str, str]) -> Response:
        """Authentication, throttling, method, view."""
        client = self.client_of(request.headers)
        if client is None and target.scope != "retail_public":
            return empty(401, [AUTHENTICATE])
        key = request.client_ip if target.scope == "retail_public" else str(client)
        wait = self.throttle.check(target.scope, key)
        if wait is not None:
            seconds, message = throttled_detail(wait)
            return detail(429, message, [("Retry-After", str(seconds))])
        if request.method not in target.allowed:
            return detail(405, f'Method "{request.method}" not allowed.')
        if request.method == "OPTIONS":
            return json_response(200, {
                "name": target.name, "description": "", "renders": ["application/json"],
                "parses": ["application/json", "application/x-www-form-urlencoded"],
            })  # fmt: skip
        view = target.views["GET" if request.method == "HEAD" else request.method]
        try:
            return view(self, request, params)
        except Reply as reply:
            return reply.response

    def token(self, request: Request) -> Response:
        """``POST /o/token/``: the client-credentials grant as Django OAuth Toolkit (oauthlib) answers it."""
        allow = [("Allow", "POST, OPTIONS")]
        if request.method == "OPTIONS":
            return empty(200, allow)
        if request.method != "POST":
            return empty(405, allow)  # Django's View.http_method_not_allowed: no body
        no_store = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        media = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = parse_qs(request.body.decode("utf-8", "replace")) if media == "application/x-www-form-urlencoded" else {}
        params = {k: v[-1] for k, v in form.items()}
        if params.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"}, no_store)
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        basic = request.headers.get("Authorization") or ""
        if basic[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(basic[6:].strip(), validate=True).decode("utf-8")
                raw_id, _, raw_secret = decoded.partition(":")
                client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            except ValueError:  # not base64, not ASCII (a non-ASCII byte), not UTF-8: a bad credential like any other
                client_id, secret = "", ""
        good_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        good_secret = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        if not (good_id and good_secret):
            challenge = ("WWW-Authenticate", 'Bearer error="invalid_client"')
            return json_response(401, {"error": "invalid_client"}, [*no_store, challenge])
        token = self.tokens.issue(client_id)
        lifetime = int(self.tokens.lifetime)
        body = {"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": "read write"}
        return json_response(200, body, no_store)
