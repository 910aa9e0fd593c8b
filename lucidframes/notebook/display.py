"""How lucidframes errors and warnings look in IPython and Jupyter: a short block, not a traceback.

Importing lucidframes in an IPython kernel (or the IPython shell) registers one exception handler for
``LucidError`` and ``DrainInterrupted`` (``InteractiveShell.set_custom_exc``). A failing cell then shows::

    NotFoundError: GET .../products/?page=999 answered 404 Not Found: Invalid page. ...
      What to do: check the name, id or page: the resource does not exist (or not for these credentials).
      Request:    GET /api/v1.5/products/?page=999 · status 404 · 1 attempt
      Full traceback: run %tb in the next cell · the error itself: lf.last_error()

Why a handler and not ``_render_traceback_`` on the error class: IPython's ``%tb`` (and ``%debug``'s printout)
also go through ``_render_traceback_``, so with it the full traceback would be one step further away than
documented. The handler only decides what a failing cell shows; it stores the exception where ``%tb``,
``%debug`` and ``lf.last_error()`` find it, and ``%tb`` prints the whole traceback. Set ``LUCID_TRACEBACK=full``
before importing (or call ``unregister()``) for IPython's own traceback everywhere. A shell that already has a
custom exception handler keeps it: ours is not installed over another.

Warnings of lucidframes (``DriftWarning``, ``ConfigWarning``, ``EncodingFallbackWarning``) are shown as one line,
``DriftWarning: the data of 'products' changed ...``, without the file and source line; other warnings are
formatted as before. Scripts keep Python's own traceback (the CLI maps errors to exit codes and one line).
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any
from urllib.parse import urlsplit

from lucidframes.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    DrainInterrupted,
    ForbiddenError,
    HTTPStatusError,
    LucidError,
    LucidIDValidationError,
    MethodNotAllowedError,
    NotFoundError,
    PaginationError,
    RateLimitError,
    ReadError,
    RedirectError,
    ServerError,
    TransportError,
    UnknownEndpointError,
    visible,
)

__all__ = ["error_block", "last_error", "register", "unregister", "warning_line"]

_HANDLED: tuple[type[BaseException], ...] = (LucidError, DrainInterrupted)
_RED, _BOLD, _DIM, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m"
# What to do, most specific class first (the message says what happened; this says what to try next).
_ACTIONS: tuple[tuple[type[BaseException], str], ...] = (
    (DrainInterrupted, "the rows fetched so far are kept: pass lf.last_error().resume as resume= to continue."),
    (ConfigError, "fix the setting or argument the message names, then run the cell again."),
    (UnknownEndpointError, "use one of the names suggested (lucidframes endpoints lists them all)."),
    (LucidIDValidationError, "nothing was sent: fix the ids listed (lf.last_error().report.failures has them)."),
    (ReadError, "check the path, the file's format and its encoding."),
    (AuthenticationError, "check LUCID_CLIENT_ID / LUCID_CLIENT_SECRET (or the token): they were not accepted."),
    (ForbiddenError, "these credentials may not read this resource (another Brand's or Company's)."),
    (NotFoundError, "check the name, id or page: the resource does not exist (or not for these credentials)."),
    (MethodNotAllowedError, "the endpoint does not take this method: see lucidframes endpoints."),
    (BadRequestError, "fix the fields the server named; nothing was accepted."),
    (RateLimitError, "wait for the rate limit window, or lower workers=; the partial result is kept."),
    (RedirectError, "the API answered with a redirect, which is never followed: check LUCID_BASE_URL."),
    (ServerError, "the server kept failing after the retries: try again later; the partial result is kept."),
    (TransportError, "check the network and LUCID_BASE_URL; the partial result is kept."),
    (PaginationError, "the pages did not add up: run again (or resume=) and compare counts."),
    (APIError, "see the message; the request is below."),
    (LucidError, "see the message."),
)


def _action(err: BaseException) -> str:
    return next((text for cls, text in _ACTIONS if isinstance(err, cls)), "see the message.")


def _request_line(err: APIError) -> str | None:
    """``GET /api/v1.5/products/?page=999 · status 404 · 1 attempt`` (path only: no host, never a token)."""
    if err.url is None and err.method is None:
        return None
    parts = urlsplit(err.url or "")
    where = parts.path + (f"?{parts.query}" if parts.query else "")
    bits = [f"{err.method or 'GET'} {where}".strip()]
    if isinstance(err, HTTPStatusError):
        bits.append(f"status {err.status_code}")
    attempts = len(err.history) or 1
    waited = f", waited {err.total_wait:.3g} s" if err.total_wait else ""
    bits.append(f"{attempts} attempt{'s' if attempts != 1 else ''}{waited}")
    return " · ".join(bits)


def _partial_line(err: BaseException) -> str | None:
    """Where the rows fetched before the failure are, when there are any."""
    partial = getattr(err, "partial", None)
    if partial is None:
        return None
    resume = " and .resume to continue (resume=)" if getattr(err, "resume", None) is not None else ""
    return f"{len(partial):,} rows fetched before it stopped: lf.last_error().partial{resume}"


def error_block(err: BaseException, *, color: bool = True) -> list[str]:
    """The short block a failing cell shows for a lucidframes error (what happened, what to do, the request).

    Args:
        err: the error (a LucidError or DrainInterrupted).
        color: use ANSI colours (Jupyter renders them).

    Returns:
        The lines, as IPython's structured traceback (one string per line).
    """
    red, bold, dim, reset = (_RED, _BOLD, _DIM, _RESET) if color else ("", "", "", "")
    # The message may quote a server (a detail with a newline or an ANSI escape): shown, never acted on.
    said = visible(str(err), prose=True)
    lines = [f"{red}{bold}{type(err).__name__}{reset}: {said}", f"  What to do: {_action(err)}"]
    if isinstance(err, APIError) and (request := _request_line(err)) is not None:
        lines.append(f"  Request:    {visible(request, prose=True)}")
    if (partial := _partial_line(err)) is not None:
        lines.append(f"  Kept:       {partial}")
    lines.append(f"{dim}  Full traceback: run %tb in the next cell · the error itself: lf.last_error(){reset}")
    return lines


def last_error() -> BaseException | None:
    """The exception the last failing cell raised (IPython keeps it as ``sys.last_value``), or None.

    Returns:
        The exception, with its ``.partial``, ``.resume`` and ``.history`` where it has them.
    """
    return getattr(sys, "last_value", None)


def warning_line(message: warnings.WarningMessage | Warning | str, category: type[Warning]) -> str:
    """One line for a lucidframes warning: ``DriftWarning: the data of 'products' changed ...``.

    Args:
        message: the warning (or its text).
        category: its class.

    Returns:
        The line, ending in a newline.
    """
    return f"{category.__name__}: {visible(str(message), prose=True)}\n"


def _handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None) -> None:
    """IPython's custom exception hook: keep the exception for %tb, show the short block as the cell's error."""
    shell._get_exc_info((etype, value, tb))  # sets sys.last_value (and friends) as showtraceback would
    shell._showtraceback(etype, value, error_block(value))


_original_formatwarning = warnings.formatwarning


def _formatwarning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """``warnings.formatwarning`` that shortens lucidframes' own warnings to one line."""
    if category.__module__.split(".")[0] == "lucidframes":
        return warning_line(message, category)
    return _original_formatwarning(message, category, filename, lineno, line)


def _shell() -> Any:
    """The running IPython shell, or None (IPython is never imported here: only looked for)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None


def register(shell: Any = None) -> bool:
    """Show lucidframes errors as the short block and its warnings as one line in this IPython shell.

    Args:
        shell: the InteractiveShell (the running one by default).

    Returns:
        True when the handler is installed (False outside IPython, with ``LUCID_TRACEBACK=full``, or when the
        shell already has another custom exception handler).
    """
    shell = shell if shell is not None else _shell()
    if shell is None or os.environ.get("LUCID_TRACEBACK", "").strip().lower() == "full":
        return False
    current = tuple(getattr(shell, "custom_exceptions", ()) or ())
    if current and current != _HANDLED:
        return False  # someone else's handler: leave it
    shell.set_custom_exc(_HANDLED, _handler)
    warnings.formatwarning = _formatwarning
    return True


def unregister(shell: Any = None) -> None:
    """Go back to IPython's own tracebacks and warning format.

    Args:
        shell: the InteractiveShell (the running one by default).
    """
    shell = shell if shell is not None else _shell()
    if shell is not None and tuple(getattr(shell, "custom_exceptions", ()) or ()) == _HANDLED:
        shell.set_custom_exc((), None)
    if warnings.formatwarning is _formatwarning:
        warnings.formatwarning = _original_formatwarning
