"""The one way a file's content is hashed: data manifests, kit manifests, the cluster's blobs
and cache keys all compare these hex digests."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, read in blocks (memory flat for any size)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
