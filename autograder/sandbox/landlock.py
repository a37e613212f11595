"""Landlock through raw syscalls (ctypes): a filesystem allow-list, a TCP deny, and scoping.

Landlock is an unprivileged LSM (Linux >= 5.13). A process restricts itself and every process
it later starts; the restriction cannot be lifted. ABI 4 (Linux 6.7) adds TCP bind/connect
control, ABI 6 (Linux 6.12) adds scoping of signals and abstract unix sockets to the domain.
The syscall numbers 444-446 are the same on every architecture.
"""

from __future__ import annotations

import ctypes
import os
import stat
import struct
from collections.abc import Iterable

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

# Rights that may be granted on a regular file (the others only make sense on directories).
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = READ_FILE | READ_DIR
# Everything a scratch directory needs, except device nodes and cross-directory links.
WRITE = READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK
WRITE |= MAKE_FIFO | MAKE_SYM | TRUNCATE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class LandlockError(OSError):
    """A Landlock syscall failed; ``errno`` says why."""


def _syscall(*args: int | bytes | ctypes.Array | None) -> int:
    ctypes.set_errno(0)
    result = _libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    return result


def abi_version() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is missing or disabled."""
    try:
        return _syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except LandlockError:
        return 0


def handled_fs(abi: int) -> int:
    """Every filesystem right this ABI knows: what is not granted by a rule is denied."""
    rights = (MAKE_SYM << 1) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def _add_path(ruleset_fd: int, path: str, rights: int, handled: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False  # a missing optional path (say /etc/localtime) is simply not granted
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
        attr = ctypes.create_string_buffer(struct.pack("=Qi", rights & handled, fd))
        _syscall(_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, attr, 0)
    finally:
        os.close(fd)
    return True


def restrict(
    read: Iterable[str],
    write: Iterable[str],
    *,
    deny_tcp: bool = True,
    scope: bool = True,
) -> list[str]:
    """Confine this thread (and its future children) to the given paths, for good.

    Args:
        read: paths readable (files, or directories with everything beneath them).
        write: directories fully usable (create, write, remove), without exec or devices.
        deny_tcp: deny TCP bind and connect (ABI >= 4).
        scope: deny signals and abstract unix sockets outside the domain (ABI >= 6).

    Returns:
        Names of what is enforced: ``fs``, ``tcp``, ``scope``.

    Raises:
        LandlockError: Landlock is unavailable or a syscall failed; nothing was applied.
    """
    abi = abi_version()
    if abi < 1:
        raise LandlockError(38, "Landlock is not available on this kernel")
    fs = handled_fs(abi)
    net = NET_BIND_TCP | NET_CONNECT_TCP if deny_tcp and abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if scope and abi >= 6 else 0
    attr = struct.pack("=QQQ", fs, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buf = ctypes.create_string_buffer(attr[:size], size)
    ruleset_fd = _syscall(_CREATE_RULESET, buf, size, 0)
    try:
        for path in read:
            _add_path(ruleset_fd, path, READ, fs)
        for path in write:
            _add_path(ruleset_fd, path, WRITE, fs)
        _syscall(_RESTRICT_SELF, ruleset_fd, 0)
    finally:
        os.close(ruleset_fd)
    return ["fs"] + (["tcp"] if net else []) + (["scope"] if scoped else [])
