"""RFC 3161 timestamps of log checkpoints (optional: ``pip install 'provenance[timestamp]'``).

A token from a time-stamping authority (TSA) says that a checkpoint's text — ``<origin>\\n<size>\\n<root>\\n``,
the part of the note that fixes the tree — existed at the token's ``genTime``: every leaf below that size
was logged before it. Parsing and verification are ``rfc3161-client``'s (strict DER, the TSA certificate's
critical ``timeStamping`` EKU, the chain judged at ``genTime``); this module only asks and checks.

TSA certificates a verifier trusts are the ``*.pem`` files of its trust store folder (roots, and the TSA's
own certificate when the token does not carry it).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.errors import ErrorCode, InputError, UsageError

MAX_TOKEN_BYTES = 1 << 20
CONTENT_TYPE = "application/timestamp-query"


def _client() -> Any:
    try:
        import rfc3161_client
    except ImportError:
        raise UsageError(
            ErrorCode.USAGE, "RFC 3161 timestamps need the optional extra: pip install 'provenance[timestamp]'"
        ) from None
    return rfc3161_client


def request(url: str, data: bytes, *, timeout: float = 30.0) -> tuple[bytes, datetime]:
    """Ask the TSA at ``url`` for a token over ``data`` (SHA-256, with a nonce); returns (DER, genTime).

    Raises ``InputError(log.input-invalid)`` when the TSA cannot be reached, refuses, or answers with a
    token for other data or another nonce.
    """
    import urllib.error
    import urllib.request

    client = _client()
    if not url.startswith(("http://", "https://")):
        raise UsageError(ErrorCode.USAGE, f"time-stamping authority {url[:80]!r}: give an http:// or https:// address", param="tsa")
    builder = client.TimestampRequestBuilder().data(data).hash_algorithm(client.HashAlgorithm.SHA256)
    query = builder.nonce(nonce=True).cert_request(cert_request=True).build()
    post = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=query.as_bytes(), headers={"Content-Type": CONTENT_TYPE}
    )
    try:
        with urllib.request.urlopen(post, timeout=timeout) as answer:  # noqa: S310 - http(s) only, checked above
            body = answer.read(MAX_TOKEN_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise InputError(ErrorCode.LOG_INPUT_INVALID, f"the TSA at {url} did not answer: {exc}") from None
    if len(body) > MAX_TOKEN_BYTES:
        raise InputError(ErrorCode.LOG_INPUT_INVALID, f"the TSA at {url} answered more than 1 MiB")
    try:
        response = client.decode_timestamp_response(body)
        if response.status not in (0, 1):  # granted, granted with modifications
            raise ValueError(f"the TSA refused (status {response.status}: {response.status_string})")
        info = response.tst_info
    except ValueError as exc:
        raise InputError(ErrorCode.LOG_INPUT_INVALID, f"the TSA's answer is not a timestamp: {exc}") from None
    if info.message_imprint.message != hashlib.sha256(data).digest():
        raise InputError(ErrorCode.LOG_INPUT_INVALID, "the TSA timestamped other data")
    if info.nonce != query.nonce:
        raise InputError(ErrorCode.LOG_INPUT_INVALID, "the TSA's token answers another request (nonce)")
    when: datetime = info.gen_time.astimezone(UTC)
    return body, when


def load_certificates(folder: Path) -> list[bytes]:
    """The PEM files of a trust store folder (TSA roots and certificates)."""
    if not folder.is_dir():
        return []
    return [p.read_bytes() for p in sorted(folder.glob("*.pem")) if p.is_file()]


def verify(token: bytes, data: bytes, pems: list[bytes]) -> datetime | None:
    """``genTime`` when ``token`` is a valid timestamp of ``data`` by a TSA chaining to one of ``pems``;
    None when it is not (or the extra is not installed)."""
    try:
        client = _client()
        from cryptography import x509
    except UsageError:
        return None
    certs = []
    for pem in pems:
        try:
            certs.extend(x509.load_pem_x509_certificates(pem))
        except ValueError:
            continue
    roots = [c for c in certs if c.issuer == c.subject]
    leaves = [c for c in certs if c.issuer != c.subject]
    try:
        response = client.decode_timestamp_response(token)
    except ValueError:
        return None
    for tsa in [None, *leaves]:
        builder = client.VerifierBuilder(roots=roots, tsa_certificate=tsa, intermediates=[])
        try:
            if builder.build().verify_message(response, data):
                when: datetime = response.tst_info.gen_time.astimezone(UTC)
                return when
        except (client.VerificationError, ValueError):
            continue
    return None
