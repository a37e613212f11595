"""A seccomp filter built as raw BPF (ctypes, no libseccomp): no network, no kernel-level escapes.

The filter allows ``socket()`` only for AF_UNIX (EACCES otherwise; this also covers UDP, which
Landlock does not), refuses namespace flags in ``clone`` and makes ``clone3`` report ENOSYS so the
C library falls back to ``clone``, and refuses (EPERM) the calls a graded function never needs:
ptrace, other processes' memory, mounts, namespaces, BPF, perf, userfaultfd, keyrings, io_uring
(which can open sockets without ``socket()``), SysV/POSIX IPC (objects that outlive the process
and would let one submission talk to the next), file handles, modules, kexec, reboot, swap, iopl.
Only x86_64 has a syscall table here; other architectures get no filter (``supported()``).
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_LD_W_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_NR, _ARCH, _ARG0 = 0, 4, 16
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2

_AF_UNIX = 1
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
_CLONE_NAMESPACES |= 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080

_X86_64 = {
    "socket": 41,
    "clone": 56,
    "clone3": 435,
    "denied": {
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "mount": 165,
        "umount2": 166,
        "pivot_root": 155,
        "chroot": 161,
        "fsopen": 430,
        "fsmount": 432,
        "move_mount": 429,
        "open_tree": 428,
        "mount_setattr": 442,
        "unshare": 272,
        "setns": 308,
        "bpf": 321,
        "perf_event_open": 298,
        "userfaultfd": 323,
        "add_key": 248,
        "request_key": 249,
        "keyctl": 250,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "shmget": 29,
        "shmat": 30,
        "shmctl": 31,
        "semget": 64,
        "semop": 65,
        "semctl": 66,
        "semtimedop": 220,
        "msgget": 68,
        "msgsnd": 69,
        "msgrcv": 70,
        "msgctl": 71,
        "mq_open": 240,
        "mq_unlink": 241,
        "name_to_handle_at": 303,
        "open_by_handle_at": 304,
        "init_module": 175,
        "finit_module": 313,
        "delete_module": 176,
        "kexec_load": 246,
        "kexec_file_load": 320,
        "reboot": 169,
        "swapon": 167,
        "swapoff": 168,
        "acct": 163,
        "iopl": 172,
        "ioperm": 173,
        "settimeofday": 164,
        "clock_settime": 227,
        "adjtimex": 159,
        "clock_adjtime": 305,
        "syslog": 103,
        "quotactl": 179,
        "fanotify_init": 300,
        "lookup_dcookie": 212,
        "vhangup": 153,
    },
}


def supported() -> bool:
    """True where this module has a syscall table for the running architecture."""
    return platform.machine() == "x86_64" and struct.calcsize("P") == 8


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program() -> bytes:
    """The BPF program, as the kernel's array of ``struct sock_filter``."""
    table = _X86_64
    errno_eperm = _RET_ERRNO | errno.EPERM
    prog = [
        _insn(_LD_W_ABS, _ARCH),
        _insn(_JEQ, _AUDIT_ARCH_X86_64, 1, 0),
        _insn(_RET, _RET_KILL_PROCESS),
        _insn(_LD_W_ABS, _NR),
        _insn(_JSET, _X32_BIT, 0, 1),  # x32 ABI: a second syscall table, kill
        _insn(_RET, _RET_KILL_PROCESS),
        # socket(domain, ...): AF_UNIX only
        _insn(_JEQ, table["socket"], 0, 4),
        _insn(_LD_W_ABS, _ARG0),
        _insn(_JEQ, _AF_UNIX, 0, 1),
        _insn(_RET, _RET_ALLOW),
        _insn(_RET, _RET_ERRNO | errno.EACCES),
        # clone(flags, ...): no new namespaces
        _insn(_JEQ, table["clone"], 0, 4),
        _insn(_LD_W_ABS, _ARG0),
        _insn(_JSET, _CLONE_NAMESPACES, 0, 1),
        _insn(_RET, errno_eperm),
        _insn(_RET, _RET_ALLOW),
        # clone3 passes its flags in memory a filter cannot read: make libc fall back to clone
        _insn(_JEQ, table["clone3"], 0, 1),
        _insn(_RET, _RET_ERRNO | errno.ENOSYS),
    ]
    for number in table["denied"].values():
        prog.append(_insn(_JEQ, number, 0, 1))
        prog.append(_insn(_RET, errno_eperm))
    prog.append(_insn(_RET, _RET_ALLOW))
    return b"".join(prog)


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Install the filter on this thread and its future children; irreversible.

    The caller must have set ``no_new_privs`` (or hold CAP_SYS_ADMIN).

    Raises:
        OSError: the architecture is unsupported or the kernel refused the filter.
    """
    if not supported():
        raise OSError(errno.ENOSYS, f"no seccomp syscall table for {platform.machine()}")
    code = program()
    buf = ctypes.create_string_buffer(code, len(code))
    fprog = _Fprog(len(code) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    ctypes.set_errno(0)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {errno.errorcode.get(err, err)}")
