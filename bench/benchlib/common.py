"""Shared basics of the bench helpers: the repository root, progress logging (stderr, with the
time), a free loopback port, the first error line of a tool's output, CellError (the error a
measurement raises so that its table cell reads `error: <text>` while the run goes on), starting
a server process and waiting until it serves, and the entry modules' SIGTERM handling.
"""

import os
import re
import signal
import socket
import subprocess
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


def start_server(cmd, logpath, work, marker, timeout, what, cwd=None, poll=0.2):
    """Starts `cmd` with its output appended to `logpath`, records its pid in WORK/pids (the
    wrapper's cleanup backstop) and waits until the log shows `marker`. Returns the process;
    raises CellError, the process stopped, if it exits first or does not serve in `timeout` s."""
    with open(logpath, "ab") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=cwd,
                                stdin=subprocess.DEVNULL)
    with open(os.path.join(work, "pids"), "a") as f:
        f.write(f"{proc.pid}\n")
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(logpath, "rb") as f:
            text = f.read().decode(errors="replace")
        if marker in text:
            return proc
        if proc.poll() is not None:
            raise CellError(f"{what} exited ({proc.returncode}): {first_error_line(text)}")
        time.sleep(poll)
    proc.terminate()
    try:
        proc.wait(timeout=150)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    raise CellError(f"{what} did not serve within {timeout} s")


def run_main(main):
    """Runs an entry module's main(): SIGTERM (what bench/run's cleanup sends) unwinds like
    Ctrl-C, so `finally` blocks stop the servers; exit status 130 then."""
    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
