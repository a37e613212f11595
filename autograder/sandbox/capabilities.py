"""Which isolation layers work on this machine right now, found by trying each one.

``probe()`` runs once per process (about 0.1-0.3 s: a trial bwrap start, a throwaway process that
mounts a capped tmpfs, applies Landlock and seccomp, checks that they block and tries to reach
the grader, a throwaway cgroup). Layers can be forced off with
``AUTOGRADER_SANDBOX_DISABLE=bwrap,scratch,landlock,seccomp,uid,cgroup`` to test the fallbacks;
``probe()`` re-probes when that variable changes.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import bubblewrap, cgroups, landlock, runtime, seccomp, uid

DISABLE_ENV = "AUTOGRADER_SANDBOX_DISABLE"
LAYER_NAMES = (
    "hygiene",
    "rlimits",
    "bubblewrap",
    "scratch-tmpfs",
    "landlock",
    "seccomp",
    "sandbox-uid",
    "cgroup",
)
_ALIASES = {
    "bwrap": "bubblewrap",
    "uid": "sandbox-uid",
    "cgroups": "cgroup",
    "scratch": "scratch-tmpfs",
}

PROTECTS = {
    "hygiene": "wall-clock deadlines; a minimal environment; the grader cannot be ptraced or "
    "have its memory read (PR_SET_DUMPABLE 0); every leftover process is killed after each run",
    "rlimits": "CPU time, address space (memory, when there is no cgroup), file size, open files, "
    "no core files; a process cap once the worker is not uid 0",
    "bubblewrap": "a private filesystem view (hidden files and the host's unix sockets do not "
    "exist), no network at all, a size-capped scratch tmpfs, private IPC",
    "scratch-tmpfs": "filling the disk: without bubblewrap, scratch is a tmpfs capped in total "
    "(the assignment's scratch_mb) in the zygote's private mount namespace, charged to the run's "
    "memory cgroup and gone with the zygote",
    "landlock": "reading anything but the runtime and the submission, writing outside scratch "
    "(a .pth in site-packages), running programs; TCP (ABI 4+); signalling the grader or any "
    "process outside the sandbox, SIGIO included, and abstract unix sockets (ABI 6+)",
    "seccomp": "every socket but AF_UNIX (UDP too); connecting to the host's unix sockets "
    "(without bubblewrap); prlimit, pidfd, process_vm, kcmp, scheduler and priority calls on "
    "another process; file metadata changes (chmod, chown, utime, xattrs) by a worker that shares "
    "the grader's uid; ptrace, mounts and namespaces, bpf, io_uring, SysV/POSIX IPC that would "
    "outlive the run, keyrings, kernel modules",
    "sandbox-uid": "root's powers, a process cap that binds (RLIMIT_NPROC), signals, rlimits, "
    "pidfds and ptrace of the grader, files only root may read or chmod",
    "cgroup": "memory including shared memory and tmpfs, reported as 'memory limit exceeded'; a "
    "process cap that binds uid 0; a CPU quota of the run's threads (with the cpu controller), "
    "so its processes cannot starve the other lanes; the run's CPU time; every process of the run "
    "killed at the end",
}


@dataclass(frozen=True)
class Layer:
    """One isolation mechanism and whether it is in force here."""

    name: str
    active: bool
    protects: str
    why_not: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Capabilities:
    """The outcome of ``probe()``."""

    layers: tuple[Layer, ...]
    root: bool
    landlock_abi: int = 0
    cgroup: cgroups.Support | None = None
    bwrap: str | None = None
    # For each way into the grader (``selftest.REACH``), whether a process confined like a
    # worker sharing its uid was refused; empty when no confined process could be tried.
    grader_refused: dict[str, bool] = field(default_factory=dict)

    def layer(self, name: str) -> Layer:
        name = _ALIASES.get(name, name)
        return next(layer for layer in self.layers if layer.name == name)

    def active(self, name: str) -> bool:
        return self.layer(name).active

    @property
    def active_names(self) -> list[str]:
        return [layer.name for layer in self.layers if layer.active]


def disabled_layers() -> set[str]:
    """Layer names forced off through ``AUTOGRADER_SANDBOX_DISABLE``."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {_ALIASES.get(n.strip(), n.strip()) for n in raw.split(",") if n.strip()}


def _selftest(readable: list[str], wanted: list[str]) -> dict:
    """The ``wanted`` in-process layers applied for real in a throwaway interpreter."""
    with tempfile.NamedTemporaryFile(prefix="autograder-probe-") as secret:
        boot = (
            "import sys; sys.path.insert(0, sys.argv[3]); "
            "from autograder.sandbox.selftest import main; main()"
        )
        cmd = [
            sys.executable,
            "-I",
            "-c",
            boot,
            secret.name,
            json.dumps(readable),
            str(runtime.PACKAGE_DIR.parent),
            json.dumps(wanted),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env={})
            return json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return {
                "landlock": "the self-test process failed",
                "seccomp": "the self-test process failed",
                "scratch_tmpfs": "the self-test process failed",
            }


def _layer(name: str, active: bool, why_not: str = "", detail: str = "") -> Layer:
    return Layer(name, active, PROTECTS[name], why_not, detail)


def _landlock_layer(abi: int, test: dict) -> Layer:
    if abi < 1:
        return _layer(
            "landlock",
            False,
            "the kernel has no Landlock (needs Linux 5.13+ with landlock in the LSM list)",
        )
    parts = test.get("landlock")
    if not isinstance(parts, list):
        return _layer("landlock", False, f"could not apply it: {parts}")
    if not test.get("landlock_blocks_read"):
        return _layer("landlock", False, "applied, but a forbidden file stayed readable")
    missing = [] if abi >= 4 else ["TCP (needs ABI 4, Linux 6.7)"]
    missing += [] if abi >= 6 else ["signal and socket scoping (needs ABI 6, Linux 6.12)"]
    return _layer(
        "landlock", True, detail=f"ABI {abi}" + (f"; lacks {', '.join(missing)}" if missing else "")
    )


def _seccomp_layer(test: dict) -> Layer:
    if not seccomp.supported():
        return _layer("seccomp", False, "no syscall table for this architecture (x86_64 only)")
    if test.get("seccomp") is not True:
        return _layer("seccomp", False, f"could not install the filter: {test.get('seccomp')}")
    if not test.get("seccomp_blocks_inet"):
        return _layer("seccomp", False, "installed, but an AF_INET socket was still allowed")
    return _layer("seccomp", True, detail="x86_64 BPF filter")


def _scratch_layer(test: dict, bwrap_active: bool) -> Layer:
    if bwrap_active:
        return _layer("scratch-tmpfs", False, "not needed: bubblewrap's scratch is a capped tmpfs")
    why = test.get("scratch_tmpfs", "not tried")
    if why:
        return _layer("scratch-tmpfs", False, why)
    return _layer("scratch-tmpfs", True, detail="tmpfs in a private mount namespace")


def _bwrap_layer(root: bool) -> Layer:
    path = bubblewrap.executable()
    if not path:
        return _layer("bubblewrap", False, "bwrap is not installed (apt-get install bubblewrap)")
    with tempfile.TemporaryDirectory(prefix="autograder-probe-") as tmp:
        Path(tmp, "in").mkdir()
        wrapper = bubblewrap.command(
            path,
            scratch_root=f"{tmp}/scratch",
            scratch_bytes=1 << 20,
            inbox=f"{tmp}/in",
            readable=[],
            root=root,
        )
        why = bubblewrap.trial(wrapper)
    if why:
        return _layer("bubblewrap", False, why)
    mode = "as root, no user namespace" if root else "unprivileged user namespace"
    return _layer("bubblewrap", True, detail=f"{path} ({mode})")


def _not_world_readable(paths: list[str], ancestors: bool) -> str:
    """'' when other users can read every path (and reach it), else the first obstacle."""
    for text in paths:
        path = Path(text)
        for place in [path, *(path.parents if ancestors else [])]:
            try:
                mode = place.stat().st_mode
            except OSError:
                continue
            need = stat.S_IXOTH | (stat.S_IROTH if place == path else 0)
            if mode & need != need:
                return f"{place} (mode {stat.filemode(mode)}) is not open to other users"
    return ""


def _uid_layer(root: bool, bwrap_active: bool) -> Layer:
    if not root:
        return _layer("sandbox-uid", False, "not root: the worker runs as the grader's own user")
    # bwrap recreates the parents of bound paths world-traversable; without it they must be.
    blocked = _not_world_readable(list(runtime.python_paths()), ancestors=not bwrap_active)
    if blocked:
        return _layer("sandbox-uid", False, f"the Python runtime is unreadable to it: {blocked}")
    first = uid.base()
    return _layer(
        "sandbox-uid", True, detail=f"uids {first}..{first + uid.SLOTS - 1}, one per slot"
    )


def _cgroup_layer() -> tuple[Layer, cgroups.Support | None]:
    support, why = cgroups.detect()
    if support is not None:
        support, why = cgroups.trial(support)
    if support is None:
        return _layer("cgroup", False, why), None
    cgroups.sweep_stale(support)
    controllers = ["memory", "pids"] + (["cpu"] if support.cpu is not None else [])
    detail = f"cgroup v{support.version} ({', '.join(controllers)})"
    return _layer("cgroup", True, detail=detail), support


def _probe(disabled: frozenset[str]) -> Capabilities:
    root = os.geteuid() == 0
    abi = landlock.abi_version()
    readable = [*runtime.python_paths(), *runtime.SYSTEM_READ]  # cached; the trials need it
    found = {n: _layer(n, False, f"disabled by {DISABLE_ENV}") for n in disabled if n in PROTECTS}
    in_process = sorted({"landlock", "seccomp", "scratch-tmpfs"} - disabled)
    with ThreadPoolExecutor(3) as pool:  # three independent trials, two of them subprocesses
        test = pool.submit(_selftest, readable, in_process) if in_process else None
        bwrap = pool.submit(_bwrap_layer, root) if "bubblewrap" not in found else None
        cgroup = pool.submit(_cgroup_layer) if "cgroup" not in found else None
        results = test.result() if test else {}
        support = None
        if bwrap:
            found["bubblewrap"] = bwrap.result()
        if cgroup:
            found["cgroup"], support = cgroup.result()
    found.setdefault("hygiene", _layer("hygiene", True, detail="always"))
    found.setdefault("rlimits", _layer("rlimits", True, detail="always"))
    if "scratch-tmpfs" not in found:
        found["scratch-tmpfs"] = _scratch_layer(results, found["bubblewrap"].active)
    if "landlock" not in found:
        found["landlock"] = _landlock_layer(abi, results)
    if "seccomp" not in found:
        found["seccomp"] = _seccomp_layer(results)
    if "sandbox-uid" not in found:
        found["sandbox-uid"] = _uid_layer(root, found["bubblewrap"].active)
    return Capabilities(
        layers=tuple(found[name] for name in LAYER_NAMES),
        root=root,
        landlock_abi=abi,
        cgroup=support,
        bwrap=bubblewrap.executable() if found["bubblewrap"].active else None,
        grader_refused=dict(results.get("reach", {})),
    )


_cache: dict[frozenset[str], Capabilities] = {}


def probe(refresh: bool = False) -> Capabilities:
    """The layers usable here (cached per process and per ``AUTOGRADER_SANDBOX_DISABLE``)."""
    disabled = frozenset(disabled_layers())
    if refresh or disabled not in _cache:
        _cache[disabled] = _probe(disabled)
    return _cache[disabled]
