"""The archive-wide transparency log: RFC 9162 Merkle trees and the C2SP formats (signed notes,
checkpoints, tiles, proofs, cosignatures), pure functions over bytes, plus the archive's log storage
(:mod:`provenance.tlog.store`). Nothing here imports the CLI, and only :mod:`provenance.signing` touches
the cryptography library."""
