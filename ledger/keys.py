"""Checkpoint signing keys: Ed25519 private keys in files outside the ledger, readable by the
owner only, optionally encrypted with a passphrase. The ledger keeps only their public halves.

A key file is `<ledger id>-<key id>.key` (PKCS#8 PEM) in the key folder: $DISCLOSURE_LEDGER_KEYS,
else `keys/` in the user's configuration directory, away from the ledger's data directory, so
that a copy of the ledger never carries the key that signs it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from platformdirs import user_config_dir

from .chain.note import VerifierKey, verifier_key
from .errors import LedgerError
from .files import sync_folder

KEYS_ENV = "DISCLOSURE_LEDGER_KEYS"
PASSPHRASE_ENV = "DISCLOSURE_LEDGER_KEY_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = 8
# Asked for a key's passphrase only when its file is encrypted; None or b"" when there is none.
PassphraseSource = Callable[[], bytes | None]


class KeyUnavailable(LedgerError):
    """No signing key can be used: none was made, its file is missing or unsafe, or it is locked."""


class PassphraseNeeded(KeyUnavailable):
    """The key file is encrypted and no passphrase was given."""


def default_key_folder() -> Path:
    configured = os.environ.get(KEYS_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(user_config_dir("disclosure-ledger", appauthor=False)) / "keys"


def passphrase_from_environment() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def check_new_passphrase(passphrase: bytes | None) -> None:
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise KeyUnavailable(f"passphrase: must be at least {MIN_PASSPHRASE_LENGTH} characters long")


class KeyFolder:
    """The folder of private key files for every ledger of this user."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path_for(self, ledger_id: str, key_id: str) -> Path:
        return self.folder / f"{ledger_id}-{key_id}.key"

    def create(self, ledger_id: str, name: str, passphrase: bytes | None) -> VerifierKey:
        """Generate a key, write it owner-only (never overwriting a file) and return its public half."""
        check_new_passphrase(passphrase)
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyUnavailable(f"{self.folder}: the key folder cannot be created ({exc.strerror})") from None
        private = Ed25519PrivateKey.generate()
        public = verifier_key(name, private)
        encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                      else serialization.NoEncryption())
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        path = self.path_for(ledger_id, public.key_id.hex())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise KeyUnavailable(f"{path}: the key file cannot be written ({exc.strerror})") from None
        try:
            try:
                os.write(fd, pem)
                os.fsync(fd)
            finally:
                os.close(fd)
            sync_folder(self.folder)  # the file's name too: a key lost in a crash could sign nothing more
        except OSError as exc:
            path.unlink(missing_ok=True)  # never a key file that may not be whole
            raise KeyUnavailable(f"{path}: the key file cannot be written ({exc.strerror})") from None
        return public

    def is_encrypted(self, ledger_id: str, key_id: str) -> bool:
        return b"ENCRYPTED" in self._read(self.path_for(ledger_id, key_id))

    def exists(self, ledger_id: str, key_id: str) -> bool:
        return self.path_for(ledger_id, key_id).is_file()

    def load(self, ledger_id: str, key: VerifierKey, passphrase: PassphraseSource) -> Ed25519PrivateKey:
        """The private key whose public half is `key`, asking `passphrase()` only if the file is
        encrypted; raises KeyUnavailable saying what to do."""
        path = self.path_for(ledger_id, key.key_id.hex())
        pem = self._read(path)
        encrypted = b"ENCRYPTED" in pem
        secret = passphrase() if encrypted else None
        if encrypted and not secret:
            raise PassphraseNeeded(
                f"{path}: the signing key is protected by a passphrase; type it when asked, "
                f"or set {PASSPHRASE_ENV}")
        try:
            private = serialization.load_pem_private_key(pem, password=secret)
        except (ValueError, TypeError):
            what = "the passphrase is wrong or the key file is damaged" if encrypted else "the key file is damaged"
            raise KeyUnavailable(f"{path}: {what}") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyUnavailable(f"{path}: is not an Ed25519 key")
        if private.public_key().public_bytes_raw() != key.public_key:
            raise KeyUnavailable(f"{path}: holds a different key than the ledger's signing key {key.key_id.hex()}")
        return private

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyUnavailable(
                f"{path}: the signing key file is missing; restore it from your backup, or make a new "
                "key with `disclosure-ledger key rotate`") from None
        except OSError as exc:
            raise KeyUnavailable(f"{path}: the signing key file cannot be read ({exc.strerror})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyUnavailable(
                f"{path}: the signing key file can be read by other users; make it private with "
                f"`chmod 600 {path}` and check that nobody copied it")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise KeyUnavailable(f"{path}: the signing key file cannot be read ({exc.strerror})") from None
