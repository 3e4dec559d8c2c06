"""Key material: the cipher key that encrypts event state at rest, and the audit key that seals
the hash chain over the stored events (infra/store/audit_chain.py).

Both are 32 random bytes written as base64, the form ``AESCipher.create_key(32)`` gives and
``hotline keys generate`` prints. Event state is encrypted with AES-256-GCM by
``eventsourcing.cryptography:AESCipher`` (the ``cryptography`` package: about 5 µs an event here,
where pycryptodome's ``eventsourcing.cipher:AESCipher`` took 150 µs; the two write the same bytes).
The audit key defaults to one derived from the cipher key (an HMAC with a fixed label), so a
deployment has one secret to keep; setting ``HOTLINE_AUDIT_KEY`` separates them, so that an auditor
can verify the chain without being able to read personal data.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import tempfile
from base64 import b64decode
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import ApplicationRecorder, Mapper

KEY_BYTES = 32
AUDIT_KEY_LABEL = b"hotline audit chain v1"


class InvalidKey(ValueError):
    """A key is missing or malformed; the message says which and how to fix it."""


def generate_key() -> str:
    """A new random key (AES-256 for the cipher, or an HMAC-SHA256 key for the audit chain)."""
    return AESCipher.create_key(KEY_BYTES)


def decode_key(text: str, name: str) -> bytes:
    """The key's bytes; a clear error naming the variable or file if it is not a valid key."""
    try:
        raw = b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise InvalidKey(
            f"{name} 不是有效的密钥：应为 {KEY_BYTES} 字节随机数的 base64 编码，"
            "请用 `hotline keys generate` 生成 / "
            f"{name} is not a valid key: expected base64 of {KEY_BYTES} random bytes "
            "(make one with `hotline keys generate`)"
        )
    return raw


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (0700), made if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner may read (0600), created empty if missing, in a private
    folder. SQLite gives its -wal and -shm files the database file's mode.

    An existing file is never opened here: closing any descriptor of a database file drops every
    POSIX lock this process holds on it, SQLite's own included. A store already open in this
    process (``event_store_env`` is read again after the application opened it) then looked
    unused to the other processes, and the next one to close its connection deleted the WAL that
    this process was still writing to: its later commits were lost (tests/store/reliability/
    test_sqlite_processes.py)."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path


def write_key_file(path: Path, key: str) -> None:
    """Create ``path`` holding ``key``, readable by its owner only; FileExistsError if it exists.

    Written to a private temporary file first and then linked into place, so that no reader ever
    sees a half-written key and a key is never replaced."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A name of its own for every writer, threads of one process included (mkstemp: mode 0600).
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(key + "\n")
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_or_create_secret_file(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in ``path``, created with ``make()`` on first use. Two processes starting
    at once agree: the loser of the race reads the winner's secret."""
    if not path.exists():
        try:
            write_key_file(path, make())
        except FileExistsError:
            pass
    return path.read_text().strip()


def read_or_create_key_file(path: Path) -> str:
    """The cipher key kept in ``path``, created on first use."""
    text = read_or_create_secret_file(path, generate_key)
    decode_key(text, str(path))
    return text


def derive_audit_key(cipher_key: bytes) -> bytes:
    return hmac.new(cipher_key, AUDIT_KEY_LABEL, hashlib.sha256).digest()


def unreadable_event(mapper: Mapper[Any], recorder: ApplicationRecorder) -> str | None:
    """A clear message if the store's first or last event cannot be decrypted with this key, else None.

    Checked at start-up: the library refuses such events anyway (MapperDeserialisationError), but
    only when one is read, deep inside a request. Mixed stores (plain events written before
    encryption was switched on, or events written with another key) are refused, not guessed at.
    """
    last = recorder.max_notification_id()
    if not last:
        return None
    first = recorder.select_notifications(None, 1)
    ends = [*first, *recorder.select_notifications(last, 1)]
    for notification in ends:
        try:
            state = mapper.cipher.decrypt(notification.state) if mapper.cipher else notification.state
            if mapper.compressor:
                state = mapper.compressor.decompress(state)
            mapper.transcoder.decode(state)
        except Exception:
            return (
                f"无法解密已存储的事件（通知编号 {notification.id}）：加密密钥与写入时不同，或库中有启用加密前"
                "写入的未加密数据。请设置写入时所用的 HOTLINE_CIPHER_KEY（或放回原来的 cipher.key）；"
                "本地演示数据可删除 var/*.sqlite3 后重新 make run。 / "
                f"Cannot decrypt stored event #{notification.id}: the cipher key differs from the one it was "
                "written with, or the store holds unencrypted events from before encryption was enabled. Set "
                "the HOTLINE_CIPHER_KEY it was written with (or restore its cipher.key); for local demo data, "
                "delete var/*.sqlite3 and run make run again."
            )
    return None
