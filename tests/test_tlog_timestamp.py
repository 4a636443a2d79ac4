"""RFC 3161 timestamps of checkpoints against a local TSA made with ``openssl ts`` (no network): the token
is kept, shipped, verified against the trust store's TSA certificates, and bounds when events were logged."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bundle_helpers import rebag
from tests.conftest import World
from tests.helpers import RID
from tests.test_tlog_archive import enable_log

pytest.importorskip("rfc3161_client", reason="the 'timestamp' extra (rfc3161-client) is not installed")
if shutil.which("openssl") is None:  # pragma: no cover - make sysdeps installs it
    pytest.skip("openssl is not installed: no local TSA to test against", allow_module_level=True)

CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = test
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {dir}/serial
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tsa() -> Iterator[tuple[str, Path]]:
    """(URL, folder with ca.pem and tsa.pem) of a TSA answering over HTTP on localhost."""
    folder = Path(tempfile.mkdtemp(prefix="provenance-tsa-"))
    (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder))
    (folder / "serial").write_text("01\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=Test TSA Root", "-extensions", "v3_ca", "-config", "tsa.cnf", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA",
             "-config", "tsa.cnf", cwd=folder)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "tsa.pem", "-days", "30", "-extfile", "tsa.cnf", "-extensions", "v3_tsa", cwd=folder)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with tempfile.TemporaryDirectory() as work:
                (Path(work) / "q.tsq").write_bytes(query)
                subprocess.run(["openssl", "ts", "-reply", "-config", str(folder / "tsa.cnf"), "-queryfile",
                                f"{work}/q.tsq", "-out", f"{work}/r.tsr"], check=True, capture_output=True)
                answer = (Path(work) / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsr", folder
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


def test_timestamp_is_kept_shipped_and_bounds_when_events_were_logged(
    ingested: World, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, certs = tsa
    enable_log(ingested)
    result = ingested.run("tlog", "timestamp", "--tsa", url, "--json")
    assert result.returncode == 0, result.stderr
    when = result.json()["time"]
    assert (ingested.root / "log" / "timestamps" / "1.tsr").is_file()
    bag = tmp_path / "bag"
    assert ingested.run("export", RID, "--out", str(bag)).returncode == 0
    assert (bag / "provenance" / "log" / "timestamps" / "1.tsr").is_file()
    # a reader without TSA certificates: the token is not used, and the report says why
    doc = ingested.run("verify", str(bag), "--json").json()
    assert doc["state"] == "trusted" and any("TSA" in w for w in doc["warnings"])
    for name in ("ca.pem", "tsa.pem"):
        shutil.copy(certs / name, ingested.archive.keys_dir / name)
    doc = ingested.run("verify", str(bag), "--json").json()
    assert doc["state"] == "trusted", doc["problems"]
    assert doc["logged"] == [{"seq": 1, "index": 0, "after": None, "before": when}]
    # an altered token does not verify
    token = bag / "provenance" / "log" / "timestamps" / "1.tsr"
    data = bytearray(token.read_bytes())
    data[-10] ^= 1
    token.write_bytes(bytes(data))
    rebag(bag)
    result = ingested.run("verify", str(bag), "--json")
    assert result.returncode == 1 and [p["code"] for p in result.json()["problems"]] == ["log.checkpoint-invalid"]


def test_timestamp_refusals(ingested: World, tsa: tuple[str, Path]) -> None:
    enable_log(ingested)
    result = ingested.run("tlog", "timestamp", "--tsa", "file:///etc/passwd")
    assert result.returncode == 2 and "usage.invalid" in result.stderr
    result = ingested.run("tlog", "timestamp", "--tsa", "http://127.0.0.1:9/nothing", "--timeout", "2")
    assert result.returncode == 2 and "log.input-invalid" in result.stderr
