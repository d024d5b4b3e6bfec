"""Keyed pseudonyms for personal IDs: HMAC-SHA256 with a secret key, so the same child gets the same
pseudonym in every load (records can be linked and counted once) while the ID itself never leaves the
loader. Without the key a pseudonym cannot be recomputed from a guessed ID.

Where the key comes from, first match wins:
1. `PSEUDONYMISATION_KEY` — the key itself (at least 32 characters);
2. `PSEUDONYMISATION_KEY_FILE` — a file holding it (a mounted secret);
3. `.warehouse/pseudonymisation.key` in the project — created with a random key on first use, for a
   local warehouse only. The `.warehouse` folder is never committed.

Rotating the key: set the new key and reload. Rows loaded from then on carry pseudonyms under the new
key; older rows keep theirs, so the same child is not linked across the rotation — which is the point of
rotating a key that may have leaked. Each batch records the key's fingerprint
(audit.load_batches.pseudonymisation_key_id), so mixed keys are visible.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

LOCAL_KEY_FILE = Path(__file__).resolve().parent.parent / ".warehouse" / "pseudonymisation.key"
MIN_KEY_LENGTH = 32


class UnusableKey(RuntimeError):
    """The configured key is unusable; the message says how to fix it."""


@lru_cache(maxsize=1)
def pseudonymisation_key() -> bytes:
    key = os.environ.get("PSEUDONYMISATION_KEY")
    source = "PSEUDONYMISATION_KEY"
    if not key and os.environ.get("PSEUDONYMISATION_KEY_FILE"):
        source = os.environ["PSEUDONYMISATION_KEY_FILE"]
        key = Path(source).read_text(encoding="utf-8").strip()
    if not key:
        source = str(LOCAL_KEY_FILE)
        if not LOCAL_KEY_FILE.exists():
            LOCAL_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
            LOCAL_KEY_FILE.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
            LOCAL_KEY_FILE.chmod(0o600)
        key = LOCAL_KEY_FILE.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY_LENGTH:
        raise UnusableKey(f"the pseudonymisation key from {source} is shorter than {MIN_KEY_LENGTH} characters")
    return key.encode("utf-8")


def key_id(key: bytes | None = None) -> str:
    """A fingerprint of the key (not the key): tells which key made a pseudonym."""
    return hashlib.sha256(b"key-id|" + (key or pseudonymisation_key())).hexdigest()[:12]


def pseudonym(value: str, key: bytes | None = None) -> str:
    return hmac.new(key or pseudonymisation_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()
