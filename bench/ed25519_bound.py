"""The bare Ed25519 verification bound: N verifications of event-sized messages, nothing else.

Run as ``python bench/ed25519_bound.py N`` it prints the seconds spent verifying (after start-up), so that
one process and two processes side by side can be timed in the same run as ``audit``.
"""

from __future__ import annotations

import os
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def main() -> None:
    count = int(sys.argv[1])
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    # messages the size of a signed event (context string + canonical JSON of its fields, ~600 bytes)
    messages = [b"provenance/event/v1\x00" + os.urandom(600) for _ in range(64)]
    signatures = [key.sign(m) for m in messages]
    pairs = [(signatures[i % 64], messages[i % 64]) for i in range(count)]
    start = time.perf_counter()
    for signature, message in pairs:
        public.verify(signature, message)
    print(f"{time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
