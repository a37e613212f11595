"""A seccomp filter built as raw BPF (ctypes, no libseccomp): no network, no kernel-level escapes,
no reaching other processes of the same uid.

The filter is a table of rules (``rules()``), one per system call, each refusing the call
outright or when its arguments say it acts on something other than the caller:

- sockets: ``socket()`` only for AF_UNIX (EACCES otherwise; this also covers UDP, which Landlock
  does not). Where no layer hides the host's unix sockets (bubblewrap does), ``connect`` is
  refused and so are datagram sockets (``sendmsg`` to a path needs no ``connect``): a pathname
  socket owned by root on the host (docker.sock, a database) would otherwise accept the worker.
  ``socketpair`` and pipes, what ``multiprocessing`` uses, keep working.
- other processes: ``prlimit64`` on any pid but 0 (glibc's ``setrlimit``/``getrlimit`` pass 0),
  ``pidfd_open``/``pidfd_getfd``/``pidfd_send_signal``, ``process_vm_readv``/``writev``,
  ``process_madvise``/``process_mrelease``, ``kcmp``, the scheduler, priority, I/O priority and
  NUMA calls and ``get_robust_list`` on any pid but 0, ``setpriority``/``ioprio_set`` on a
  process group or a user, ``kill(-1)`` (every process the caller may signal) and
  ``F_SETOWN``/``FIOSETOWN`` (SIGIO sent to a chosen pid). Signals to a given pid are left to
  Landlock's signal scoping (ABI 6) or a sandbox uid.
- files the worker does not own by right: where it runs under the grader's own uid, changing
  a file's metadata (``chmod``, ``chown``, ``utime``, extended attributes) is refused. Landlock
  does not cover these, and the owner of a file may change them anywhere: a uid-0 worker
  could make the gradebook unreadable or move another submission's timestamps.
- namespaces in ``clone`` (and ``clone3``, whose flags a filter cannot read, reports ENOSYS so
  the C library falls back to ``clone``); ptrace, mounts, namespaces, BPF, perf, userfaultfd,
  keyrings, io_uring (which can open sockets without ``socket()``), SysV/POSIX IPC (objects
  that outlive the process and would let one submission talk to the next), file handles,
  modules, kexec, reboot, swap, iopl.

Only x86_64 has a syscall table here; other architectures get no filter (``supported()``).
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
from dataclasses import dataclass

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_LD_W_ABS, _JEQ, _JSET, _RET, _AND = 0x20, 0x15, 0x45, 0x06, 0x54
_NR, _ARCH, _ARGS = 0, 4, 16
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_WORD = 0xFFFFFFFF

_AF_UNIX = 1
_SOCK_DGRAM = 2
_SOCK_TYPE_MASK = 0xF  # the type without SOCK_NONBLOCK / SOCK_CLOEXEC
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
_CLONE_NAMESPACES |= 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
_PRIO_PROCESS = 0
_IOPRIO_WHO_PROCESS = 1
_F_SETOWN, _F_SETOWN_EX = 8, 15
_FIOSETOWN, _SIOCSPGRP = 0x8901, 0x8902

_X86_64 = {
    "socket": 41,
    "connect": 42,
    "socketpair": 53,
    "clone": 56,
    "clone3": 435,
    "kill": 62,
    "fcntl": 72,
    "ioctl": 16,
    "prlimit64": 302,
    "sched_setparam": 142,
    "sched_setscheduler": 144,
    "sched_setaffinity": 203,
    "sched_setattr": 314,
    "setpriority": 141,
    "ioprio_set": 251,
    "migrate_pages": 256,
    "move_pages": 279,
    "get_robust_list": 274,
    "pidfd_open": 434,
    "pidfd_getfd": 438,
    "pidfd_send_signal": 424,
    "process_madvise": 440,
    "process_mrelease": 448,
    "kcmp": 312,
    "ptrace": 101,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "chmod": 90,
    "fchmod": 91,
    "fchmodat": 268,
    "fchmodat2": 452,
    "chown": 92,
    "fchown": 93,
    "lchown": 94,
    "fchownat": 260,
    "utime": 132,
    "utimes": 235,
    "futimesat": 261,
    "utimensat": 280,
    "setxattr": 188,
    "lsetxattr": 189,
    "fsetxattr": 190,
    "removexattr": 197,
    "lremovexattr": 198,
    "fremovexattr": 199,
    "setxattrat": 463,
    "removexattrat": 466,
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
    "quotactl_fd": 443,
    "fanotify_init": 300,
    "lookup_dcookie": 212,
    "vhangup": 153,
}


@dataclass(frozen=True)
class Test:
    """One test on a system call argument (its low 32 bits: pids, flags and commands are ints).

    ``arg & mask == value``; with ``value`` None, whether any bit of ``mask`` is set.
    """

    arg: int
    value: int | None
    mask: int = _WORD


@dataclass(frozen=True)
class Rule:
    """When a system call is refused, and with which errno.

    No tests: always. ``unless``: unless every test holds. ``when``: when any test holds.
    """

    syscall: str
    errno: int = errno.EPERM
    unless: tuple[Test, ...] = ()
    when: tuple[Test, ...] = ()


def _self_only(name: str, arg: int = 0) -> Rule:
    """Refused unless the pid argument is 0, the caller (BPF cannot compare it with getpid)."""
    return Rule(name, unless=(Test(arg, 0),))


_ALWAYS = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "process_madvise",
    "process_mrelease",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "unshare",
    "setns",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "add_key",
    "request_key",
    "keyctl",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "shmget",
    "shmat",
    "shmctl",
    "semget",
    "semop",
    "semctl",
    "semtimedop",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "name_to_handle_at",
    "open_by_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "syslog",
    "quotactl",
    "quotactl_fd",
    "fanotify_init",
    "lookup_dcookie",
    "vhangup",
)

_OTHER_PROCESSES = (
    _self_only("prlimit64"),
    _self_only("sched_setparam"),
    _self_only("sched_setscheduler"),
    _self_only("sched_setaffinity"),
    _self_only("sched_setattr"),
    _self_only("migrate_pages"),
    _self_only("move_pages"),
    _self_only("get_robust_list"),
    Rule("setpriority", unless=(Test(0, _PRIO_PROCESS), Test(1, 0))),
    Rule("ioprio_set", unless=(Test(0, _IOPRIO_WHO_PROCESS), Test(1, 0))),
    Rule("kill", when=(Test(0, _WORD),)),  # pid -1: every process the caller may signal
    Rule("fcntl", when=(Test(1, _F_SETOWN), Test(1, _F_SETOWN_EX))),
    Rule("ioctl", when=(Test(1, _FIOSETOWN), Test(1, _SIOCSPGRP))),
)

_METADATA = (
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "utime",
    "utimes",
    "futimesat",
    "utimensat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "setxattrat",
    "removexattrat",
)


def rules(*, shares_uid: bool = True, host_sockets_hidden: bool = False) -> list[Rule]:
    """The filter's rules.

    Args:
        shares_uid: the worker runs under the grader's own uid (no sandbox uid): refuse changes
            to file metadata, which its owner may make anywhere.
        host_sockets_hidden: a layer (bubblewrap) hides the host's unix sockets, so ``connect``
            and datagram sockets may stay.
    """
    found = [
        Rule("socket", errno.EACCES, unless=(Test(0, _AF_UNIX),)),
        Rule("clone", when=(Test(0, None, _CLONE_NAMESPACES),)),
        # clone3 passes its flags in memory a filter cannot read: make libc fall back to clone
        Rule("clone3", errno.ENOSYS),
        *_OTHER_PROCESSES,
        *(Rule(name) for name in _ALWAYS),
    ]
    if not host_sockets_hidden:
        dgram = Test(1, _SOCK_DGRAM, _SOCK_TYPE_MASK)
        found += [Rule("connect"), Rule("socket", when=(dgram,)), Rule("socketpair", when=(dgram,))]
    if shares_uid:
        found += [Rule(name) for name in _METADATA]
    return found


def supported() -> bool:
    """True where this module has a syscall table for the running architecture."""
    return platform.machine() == "x86_64" and struct.calcsize("P") == 8


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _test(test: Test, refuse: int, when_true: bool) -> list[bytes]:
    """Load the argument and return ``refuse`` when the test's outcome is ``when_true``."""
    code = [_insn(_LD_W_ABS, _ARGS + 8 * test.arg)]
    if test.value is None:
        jump = _insn(_JSET, test.mask, 0, 1) if when_true else _insn(_JSET, test.mask, 1, 0)
    else:
        if test.mask != _WORD:
            code.append(_insn(_AND, test.mask))
        jump = _insn(_JEQ, test.value, 0, 1) if when_true else _insn(_JEQ, test.value, 1, 0)
    return [*code, jump, _insn(_RET, refuse)]


def _block(group: list[Rule]) -> list[bytes]:
    """The instructions for one system call's rules, ending in ALLOW (never falls through)."""
    code: list[bytes] = []
    for rule in group:
        refuse = _RET_ERRNO | rule.errno
        if not rule.unless and not rule.when:
            return [*code, _insn(_RET, refuse)]
        for test in rule.unless:
            code += _test(test, refuse, when_true=False)
        for test in rule.when:
            code += _test(test, refuse, when_true=True)
    return [*code, _insn(_RET, _RET_ALLOW)]


def program(*, shares_uid: bool = True, host_sockets_hidden: bool = False) -> bytes:
    """The BPF program for ``rules(...)``, as the kernel's array of ``struct sock_filter``."""
    table = _X86_64
    groups: dict[str, list[Rule]] = {}
    for rule in rules(shares_uid=shares_uid, host_sockets_hidden=host_sockets_hidden):
        groups.setdefault(rule.syscall, []).append(rule)
    prog = [
        _insn(_LD_W_ABS, _ARCH),
        _insn(_JEQ, _AUDIT_ARCH_X86_64, 1, 0),
        _insn(_RET, _RET_KILL_PROCESS),
        _insn(_LD_W_ABS, _NR),
        _insn(_JSET, _X32_BIT, 0, 1),  # x32 ABI: a second syscall table, kill
        _insn(_RET, _RET_KILL_PROCESS),
    ]
    # The accumulator holds the syscall number at every dispatch test: a block that runs
    # returns, so the next test is only reached by jumping over a block.
    for name, group in groups.items():
        block = _block(group)
        if len(block) > 255:
            raise ValueError(f"seccomp rules for {name} do not fit one jump")
        prog.append(_insn(_JEQ, table[name], 0, len(block)))
        prog += block
    prog.append(_insn(_RET, _RET_ALLOW))
    return b"".join(prog)


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(*, shares_uid: bool = True, host_sockets_hidden: bool = False) -> None:
    """Install the filter (see ``rules``) on this thread and its future children; irreversible.

    The caller must have set ``no_new_privs`` (or hold CAP_SYS_ADMIN).

    Raises:
        OSError: the architecture is unsupported or the kernel refused the filter.
    """
    if not supported():
        raise OSError(errno.ENOSYS, f"no seccomp syscall table for {platform.machine()}")
    code = program(shares_uid=shares_uid, host_sockets_hidden=host_sockets_hidden)
    buf = ctypes.create_string_buffer(code, len(code))
    fprog = _Fprog(len(code) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    ctypes.set_errno(0)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {errno.errorcode.get(err, err)}")
