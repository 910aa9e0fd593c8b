"""What the command line says on stderr: human lines by default, one JSON object per line with ``--log-format json``.

Everything goes through the ``lucidframes`` logger (the transport logs retries and waits there with
``extra={"event", "endpoint", "page", "status", "wait", "attempt", "request_id"}``; the commands log their own
summaries). A JSON line holds ``time``, ``level``, ``event``, ``message`` and whichever of those fields the record
carries. Known secrets (the configured client secret and token) are replaced by ``***`` in every line, a message's
control characters (a server's ``\n``, ``\r``, ANSI escapes) show as ``⟨U+001B⟩`` so one record stays one line and
moves no cursor, and Python warnings become one ``warning: ...`` line instead of Python's two-line format. Every
line is written through tqdm's writer: a progress bar on stderr is cleared first and drawn again below it, so a line
is never glued to it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from tqdm import tqdm

from lucidframes.errors import visible

__all__ = ["FIELDS", "JsonFormatter", "TextFormatter", "configure", "say", "stderr_stream", "warnings_as_lines"]

FIELDS = ("event", "endpoint", "page", "status", "wait", "attempt", "request_id")
_LOGGER = "lucidframes"
_SECRET_VARS = ("LUCID_CLIENT_SECRET", "LUCID_TOKEN")
# Values that look like credentials wherever they turn up in text: a bearer header, a secret or token field.
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:client_secret|access_token|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"),
)


class _Redact:
    """Replaces known secrets and credential-shaped values by ``***``."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def add(self, value: str | None) -> None:
        if value and len(value) >= 4:
            self.secrets.add(value)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text


REDACT = _Redact()


class TextFormatter(logging.Formatter):
    """``message`` for information, ``warning: message`` and ``error: message`` for the rest."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.ERROR:
            text = f"error: {text}"
        elif record.levelno >= logging.WARNING:
            text = f"warning: {text}"
        return visible(REDACT(text), prose=True)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, event, message and the transport's fields where present."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or ("warning" if record.levelno == logging.WARNING else "log"),
            "message": visible(REDACT(record.getMessage()), prose=True),
        }
        for name in FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = REDACT(value) if isinstance(value, str) else value
        for name, value in getattr(record, "fields", {}).items():
            data.setdefault(name, REDACT(value) if isinstance(value, str) else value)
        return json.dumps(data, ensure_ascii=False, default=str)


class BarSafeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes through ``tqdm.write`` (bars on the stream step aside for the line)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def configure(log_format: str = "text", quiet: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """Send the ``lucidframes`` logger to stderr in the chosen format; known secrets from the environment redacted.

    Args:
        log_format: ``text`` or ``json``.
        quiet: only warnings and errors.
        stream: where to write (stderr by default).

    Returns:
        The handler (``teardown`` it when the command ends).
    """
    for var in _SECRET_VARS:
        REDACT.add(os.environ.get(var))
    handler = BarSafeHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger(_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    return handler


def teardown(handler: logging.Handler) -> None:
    """Remove a handler added by ``configure`` and restore the logger's defaults.

    Args:
        handler: what ``configure`` returned.

    Returns:
        None.
    """
    logger = logging.getLogger(_LOGGER)
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def say(message: str, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one line of the command line's own (a summary, a hint, an error) with its event name.

    Args:
        message: the human text.
        event: a short event name for machines (``fetch_done``, ``usage_error``).
        level: the logging level.
        **fields: more fields for the JSON line (``endpoint=``, ``rows=``).

    Returns:
        None.
    """
    known = {k: v for k, v in fields.items() if k in FIELDS}
    rest = {k: v for k, v in fields.items() if k not in FIELDS}
    logging.getLogger(_LOGGER + ".cli").log(level, message, extra={"event": event, **known, "fields": rest})


class _LogStream(io.TextIOBase):
    """A text stream whose every line becomes one log record (for code that prints a report to stderr)."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.buffer_text = ""

    def write(self, text: str) -> int:
        if not logging.getLogger(_LOGGER).handlers:  # called outside main(): plain stderr, as before
            sys.stderr.write(text)
            return len(text)
        self.buffer_text += text
        *lines, self.buffer_text = self.buffer_text.split("\n")
        for line in lines:
            say(line, self.event)
        return len(text)

    def flush(self) -> None:
        if self.buffer_text:
            say(self.buffer_text, self.event)
            self.buffer_text = ""


def stderr_stream(event: str) -> TextIO:
    """A stream for messages meant for stderr: lines become log records (JSON lines, silenced by ``--quiet``).

    Args:
        event: the event name of the lines.

    Returns:
        A text stream.
    """
    return _LogStream(event)  # type: ignore[return-value]


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show Python warnings as one ``warning: ...`` log line each (no source line), while the command runs.

    Returns:
        A context manager.
    """

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        say(str(message), "warning", logging.WARNING, category=category.__name__)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield
