"""How a Client's settings are resolved: arguments, then the ``LUCID_*`` environment, then the defaults."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from lucidframes._http.urls import BaseURL, parse_base_url
from lucidframes.config import DEFAULT_BASE_URL, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_TOKEN
from lucidframes.errors import ConfigError, ConfigWarning

__all__ = ["Settings", "resolve_settings"]

# Values people paste from documentation instead of their own: refused before any request is made.
_PLACEHOLDER = re.compile(
    r"[\s.*_<>-]*|x+|<.*>|\{.*\}|(your|my)[-_ ].*|changeme|placeholder|secret|token|none|null", re.IGNORECASE
)


@dataclass(frozen=True)
class Settings:
    """Where to connect and how to authenticate, after resolution (``auth``: "client_credentials" or "token")."""

    base: BaseURL
    client_id: str | None
    client_secret: str | None
    token: str | None
    auth: str

    @property
    def base_url(self) -> str:
        """The base URL as text (``https://host[:port]``)."""
        return self.base.origin

    def __repr__(self) -> str:
        # Secrets never appear in a repr.
        return (
            f"Settings(base_url={self.base_url!r}, client_id={self.client_id!r}, "
            f"client_secret={'***' if self.client_secret else None}, token={'***' if self.token else None}, "
            f"auth={self.auth!r})"
        )


class _Given(NamedTuple):
    """One setting as found: its value (None when unset) and where it came from (the argument or the variable)."""

    value: str | None
    source: str


def _pick(value: str | None, env: Mapping[str, str], variable: str, argument: str) -> _Given:
    """One setting: the argument, else the variable."""
    if value is not None and value != "":
        return _Given(value, argument)
    return _Given(env.get(variable) or None, variable)


def _checked(given: _Given) -> _Given:
    """A credential as given, or ConfigError when it is a placeholder or holds whitespace (never shown)."""
    value = given.value
    if value is None:
        return given
    if _PLACEHOLDER.fullmatch(value.strip()) or any(c.isspace() for c in value):
        raise ConfigError(
            f"{given.source} looks like a placeholder or holds whitespace ({len(value)} characters): set it to the "
            "value Lucid Green issued (nothing was sent)."
        )
    return given


def resolve_settings(
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Fill unset arguments from the environment and check that one complete way to authenticate is configured.

    An explicit ``token=`` wins; otherwise client credentials (renewable) win over ``LUCID_TOKEN``; whichever is
    ignored is said once, as a ConfigWarning.

    Args:
        base_url: the API host (scheme, host, optional port); the production LucidSource host when unset.
        client_id: OAuth2 client id.
        client_secret: OAuth2 client secret.
        token: a fixed access token (no renewal).
        environ: the environment to read (defaults to ``os.environ``).

    Returns:
        The resolved Settings.
    """
    env = os.environ if environ is None else environ
    base_text, base_from = _pick(base_url, env, ENV_BASE_URL, "base_url=")
    base = parse_base_url(base_text or DEFAULT_BASE_URL, setting=base_from)
    cid = _checked(_pick(client_id, env, ENV_CLIENT_ID, "client_id="))
    secret = _checked(_pick(client_secret, env, ENV_CLIENT_SECRET, "client_secret="))
    tok = _checked(_pick(token, env, ENV_TOKEN, "token="))
    _require_credentials(cid, secret, tok)
    use_token = _uses_token(cid, secret, tok)
    _warn_ignored(cid, secret, tok, use_token)
    return Settings(base, cid.value, secret.value, tok.value, "token" if use_token else "client_credentials")


def _require_credentials(cid: _Given, secret: _Given, tok: _Given) -> None:
    """ConfigError unless a token, or both halves of the client credentials, are configured."""
    if bool(cid.value) != bool(secret.value) and tok.value is None:
        have, need = (cid.source, secret.source) if cid.value else (secret.source, cid.source)
        raise ConfigError(
            f"{have} is set but {need} is not: client credentials need both (or set {ENV_TOKEN} for a fixed token)."
        )
    if tok.value is None and not cid.value:
        raise ConfigError(
            f"No credentials configured: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (OAuth2 client credentials "
            f"issued by Lucid Green), or {ENV_TOKEN} for a fixed access token, or pass them to lf.Client(...). "
            "To try lucidframes without credentials, use the local sandbox: `lucidframes sandbox`."
        )


def _uses_token(cid: _Given, secret: _Given, tok: _Given) -> bool:
    """Whether the fixed token is used: when passed as ``token=``, or when no complete client credentials are set."""
    return tok.value is not None and (tok.source == "token=" or not (cid.value and secret.value))


def _warn_ignored(cid: _Given, secret: _Given, tok: _Given, use_token: bool) -> None:
    """Say once, as a ConfigWarning, which configured credential is ignored and why."""
    if tok.value is None:
        return
    # stacklevel 4: past this helper, resolve_settings and Client.__init__, to the line that made the Client.
    if cid.value and secret.value:
        ignored = f"client credentials ({cid.source}, {secret.source})" if use_token else tok.source
        used = tok.source if use_token else "the client credentials (they can be renewed)"
        warnings.warn(f"{ignored} ignored: {used} win.", ConfigWarning, stacklevel=4)
    elif cid.value or secret.value:
        lone = cid.source if cid.value else secret.source
        warnings.warn(f"{lone} ignored: it needs its pair.", ConfigWarning, stacklevel=4)
