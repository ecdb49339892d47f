"""Independent reference checks: the real binary on loopback, checked with GEOS (shapely), PROJ (pyproj)
and a separate vector-tile decoder, so a bug in the service's own geometry code cannot hide itself.

Run by `.ci/run` after `cargo test` built the debug binary; `TERRITOIRES_BIN` picks another build."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `territoires serve` and small helpers to call it."""

    def __init__(self, base, proc=None):
        self.base = base
        self.proc = proc

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=120) as r:
            return r.read()

    def json(self, path):
        return json.loads(self.get(path))

    def post_json(self, path, body):
        req = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


def start_server(extra_args=()):
    """Start `territoires serve` on a free loopback port with the committed geodata (from the repository's
    folder, so through the built-in snapshot while it matches `geodata/`, as a user runs it) and wait
    until it is healthy. Returns a `Server`; call its `stop()` when done. `TERRITOIRES_BIN` picks the binary and
    `TERRITOIRES_SERVE_ARGS` adds flags, e.g. "--territories 2023=FILE" to check other lists."""
    binary = os.environ.get("TERRITOIRES_BIN", str(ROOT / "target/debug/territoires"))
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "serve", "--addr", f"127.0.0.1:{port}"]
        + os.environ.get("TERRITOIRES_SERVE_ARGS", "").split()
        + list(extra_args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"{binary} serve did not become healthy")
            time.sleep(0.2)
    return Server(base, proc)


@pytest.fixture(scope="session")
def server():
    s = start_server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def geodata():
    return ROOT / "geodata"
