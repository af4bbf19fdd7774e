"""Shared basics of the bench helpers: the repository root, progress logging (stderr, with the
time), a free loopback port, the first error line of a tool's output, and CellError, the error a
measurement raises so that its table cell reads `error: <text>` while the run goes on.
"""

import os
import re
import socket
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_error_line(text):
    """The first line of sysbench (or client) output that names an error."""
    for line in text.splitlines():
        if re.search(r"FATAL|ERROR|[Ee]rror|failed", line):
            return line.strip()[:300]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no output")[:300]


class CellError(Exception):
    pass
