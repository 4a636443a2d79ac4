"""A real S3-compatible server for tests: moto in server mode (``moto_server``), on 127.0.0.1, started as a
subprocess and stopped by the fixture that asked for it. Nothing of the code under test is mocked: it
talks HTTP to this server through s3fs/botocore, as it would to any S3 endpoint."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(key="testing", secret="testing", skip_instance_cache=True,
                                 client_kwargs={"endpoint_url": self.endpoint})

    def upload(self, archive_root: Path, url: str) -> None:
        """Copy an archive folder (records/, keys/) to ``s3://bucket/prefix``."""
        fs = self.fs()
        base = url.split("://", 1)[1]
        bucket = base.split("/", 1)[0]
        if not fs.exists(bucket):
            fs.mkdir(bucket)
        for part in ("records", "keys"):
            for path in sorted((archive_root / part).rglob("*")):
                if path.is_file():
                    fs.pipe_file(f"{base}/{path.relative_to(archive_root).as_posix()}", path.read_bytes())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """A moto server on a free port of 127.0.0.1; skips (visibly) where moto cannot be installed."""
    pytest.importorskip("moto", reason="moto[server] is not installed (the test extra installs it)")
    pytest.importorskip("s3fs", reason="s3fs is not installed (the test extra installs it)")
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    process = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, **CREDENTIALS})
    server = S3Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        server.stop()
