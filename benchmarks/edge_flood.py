"""Unsigned floods against a real `oncall serve`: memory and log growth.

`python -m benchmarks.edge_flood` starts `oncall serve` (HTTP mode, SQLite file, the
fake Slack Web API), then

1. sends 16 concurrent unsigned 10 MB bodies and reports RSS before, and the peak
   (`VmHWM`, the kernel's high-water mark) after;
2. sends 25 unsigned 10 MB bodies one after another, then 25 of 1 MB (just under the
   cap, so they reach the signature check), and reports how many bytes the server's log
   (its stderr) grew by for each.

Each body is sent in full whatever the server answers, as an attacker would.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack

REPO = Path(__file__).resolve().parent.parent
FLOOD_BYTES = 10 * 1024 * 1024
UNDER_CAP_BYTES = 1024 * 1024 - 1024
CONCURRENT = 16
SEQUENTIAL = 25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def _send_unsigned(port: int, size: int = FLOOD_BYTES) -> None:
    """One form POST of `size` bytes with no signature, sent whole; the answer is read if
    the server still listens."""
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
    ).encode()
    chunk = b"text=" + b"x" * (64 * 1024 - 5)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        try:
            connection.sendall(head)
            sent = 0
            while sent < size:
                piece = chunk[: size - sent]
                connection.sendall(piece)
                sent += len(piece)
            connection.recv(4096)
        except OSError:  # the server answered 413 and closed: the attacker does not care
            pass


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oncall serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("oncall serve did not become healthy")


def _log_growth(log_path: Path, port: int, process: subprocess.Popen[bytes], size: int) -> int:
    before = log_path.stat().st_size
    for _ in range(SEQUENTIAL):
        _send_unsigned(port, size)
    _wait_healthy(port, process)  # the server is done with them
    return log_path.stat().st_size - before


def main() -> None:
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as directory:
        port = _free_port()
        log_path = Path(directory) / "serve.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite:///{directory}/oncall.db",
            "ONCALL_TEAM_FILE": str(REPO / "team.yaml"),
            "PORT": str(port),
        }
        command = [sys.executable, "-c", "from cli.main import main; main()", "serve"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, env=env, stderr=log, stdout=log, cwd=directory)
        try:
            _wait_healthy(port, process)
            idle = _memory_kb(process.pid, "VmRSS")
            with ThreadPoolExecutor(CONCURRENT) as pool:
                list(pool.map(lambda _: _send_unsigned(port), range(CONCURRENT)))
            peak = _memory_kb(process.pid, "VmHWM")
            grown = [_log_growth(log_path, port, process, size) for size in (FLOOD_BYTES, UNDER_CAP_BYTES)]
        finally:
            process.terminate()
            process.wait(timeout=60)
    print(
        f"RSS idle {idle / 1024:.0f} MB; peak during {CONCURRENT} concurrent unsigned 10 MB bodies {peak / 1024:.0f} MB"
    )
    print(f"log growth over {SEQUENTIAL} unsigned bodies: 10 MB each {grown[0]} bytes, 1 MB each {grown[1]} bytes")


if __name__ == "__main__":
    main()
