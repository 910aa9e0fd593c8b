"""How a Client's settings are resolved: arguments, then the ``LUCID_*`` environment, then the defaults."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

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


def _pick(value: str | None, env: Mapping[str, str], variable: str, argument: str) -> tuple[str | None, str]:
    """(the value, where it came from) for one setting: the argument, else the variable."""
    if value is not None and value != "":
        return value, argument
    found = env.get(variable) or None
    return found, variable


def _checked(value: str | None, where: str) -> str | None:
    """A credential as given, or ConfigError when it is a placeholder or holds whitespace (never shown)."""
    if value is None:
        return None
    if _PLACEHOLDER.fullmatch(value.strip()) or any(c.isspace() for c in value):
        raise ConfigError(
            f"{where} looks like a placeholder or holds whitespace ({len(value)} characters): set it to the value "
            "Lucid Green issued (nothing was sent)."
        )
    return value


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
    cid, cid_from = _pick(client_id, env, ENV_CLIENT_ID, "client_id=")
    secret, secret_from = _pick(client_secret, env, ENV_CLIENT_SECRET, "client_secret=")
    tok, tok_from = _pick(token, env, ENV_TOKEN, "token=")
    cid, secret, tok = _checked(cid, cid_from), _checked(secret, secret_from), _checked(tok, tok_from)
    if bool(cid) != bool(secret) and tok is None:
        have, need = (cid_from, secret_from) if cid else (secret_from, cid_from)
        raise ConfigError(
            f"{have} is set but {need} is not: client credentials need both (or set {ENV_TOKEN} for a fixed token)."
        )
    if tok is None and not cid:
        raise ConfigError(
            f"No credentials configured: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (OAuth2 client credentials "
            f"issued by Lucid Green), or {ENV_TOKEN} for a fixed access token, or pass them to lf.Client(...). "
            "To try lucidframes without credentials, use the local sandbox: `lucidframes sandbox`."
        )
    use_token = tok is not None and (tok_from == "token=" or not (cid and secret))
    if tok is not None and cid and secret:
        ignored = f"client credentials ({cid_from}, {secret_from})" if use_token else tok_from
        used = tok_from if use_token else "the client credentials (they can be renewed)"
        warnings.warn(f"{ignored} ignored: {used} win.", ConfigWarning, stacklevel=3)
    elif tok is not None and (cid or secret):
        warnings.warn(f"{cid_from if cid else secret_from} ignored: it needs its pair.", ConfigWarning, stacklevel=3)
    return Settings(base, cid, secret, tok, "token" if use_token else "client_credentials")
