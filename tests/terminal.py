"""A command run in a pseudo-terminal (Python's ``pty``), and the screen as a person sees it afterwards.

``run_in_pty`` starts ``python -m lucidframes ...`` with the pty as stdin, stdout and stderr (so stderr is a
terminal and the progress bar is drawn), SIGINT at its default, and a window of ``COLUMNS`` x ``LINES``; it returns
the raw bytes written. ``screen`` replays them as a terminal would: a carriage return goes back to column 0 and
overwrites, a newline starts a line, a line wraps at the width, and ANSI control sequences are dropped.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping

from helpers import default_sigint

COLUMNS, LINES = 120, 40
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_pty(
    args: list[str],
    env: Mapping[str, str],
    *,
    interrupt_when: Callable[[bytes], bool] | None = None,
    timeout: float = 60.0,
) -> tuple[int, bytes, float | None]:
    """Run ``python -m lucidframes ARGS`` in a pty; SIGINT once ``interrupt_when(output so far)`` says so.

    Returns:
        (exit code, everything written to the terminal, seconds from the SIGINT to the exit, or None).
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    full_env = {**os.environ, **env, "COLUMNS": str(COLUMNS), "LINES": str(LINES), "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lucidframes", *args], stdin=slave, stdout=slave, stderr=slave, env=full_env,
        close_fds=True, preexec_fn=default_sigint,
    )  # fmt: skip
    os.close(slave)
    out, sent, deadline = b"", None, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
            if sent is None and interrupt_when is not None and interrupt_when(out):
                proc.send_signal(signal.SIGINT)
                sent = time.monotonic()
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    ended = time.monotonic()
    return code, out, None if sent is None else ended - sent


def screen(raw: bytes, width: int = COLUMNS) -> list[str]:
    """The lines a terminal of ``width`` columns shows after ``raw`` was written to it (no scrolling limit)."""
    text = _CONTROL.sub("", raw.decode("utf-8", errors="replace"))
    lines: list[str] = []
    line: list[str] = []
    col = 0
    for ch in text:
        if ch == "\n":
            lines.append("".join(line).rstrip())
            line, col = [], 0
        elif ch == "\r":
            col = 0
        else:
            if col >= width:  # the cursor sat past the last column: this character wraps
                lines.append("".join(line).rstrip())
                line, col = [], 0
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    if line:
        lines.append("".join(line).rstrip())
    return [x for x in lines if x]
