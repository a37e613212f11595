"""The zygote backs its memory with huge pages once a batch is underway (cheaper forks).

``collapse_hugepages`` must keep every byte, must not grow sparse memory, and must be a no-op
where the kernel refuses; a zygote that has forked for a batch must then hold huge pages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from worker_request import sigmoid_request

from autograder.trusted.supervisor import Zygote

REPO = Path(__file__).resolve().parents[1]

# no torch in this process: only the mappings made here are dense enough to collapse
_COLLAPSE = """
import json, mmap, sys
sys.path.insert(0, sys.argv[1])
from autograder.untrusted.zygote import HUGE, collapse_hugepages

def rss_kb():
    with open("/proc/self/status") as f:
        return int(next(l.split()[1] for l in f if l.startswith("VmRSS:")))

def huge_kb():
    with open("/proc/self/smaps_rollup") as f:
        return int(next(l.split()[1] for l in f if l.startswith("AnonHugePages:")))

flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
dense = mmap.mmap(-1, 16 * HUGE, flags=flags)
pattern = bytes(range(251)) * (16 * HUGE // 251) + bytes(16 * HUGE % 251)
dense[:] = pattern
sparse = mmap.mmap(-1, 32 * HUGE, flags=flags)
for offset in range(0, 32 * HUGE, HUGE):
    sparse[offset] = 7  # one page in 512 resident: must stay so
before = rss_kb()
done = collapse_hugepages()
print(json.dumps({
    "done": done,
    "intact": dense[:] == pattern and all(sparse[o] == 7 for o in range(0, 32 * HUGE, HUGE)),
    "grew_kb": rss_kb() - before,
    "huge_kb": huge_kb(),
}))
"""


def _collapse_in_fresh_process() -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _COLLAPSE, str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def test_collapse_keeps_every_byte_and_leaves_sparse_memory_alone() -> None:
    result = _collapse_in_fresh_process()
    assert result["intact"]
    # 32 sparse 2 MiB ranges filled up would add 64 MiB; the dense ones are already resident
    assert result["grew_kb"] < 8 * 1024
    if result["done"]:
        assert result["huge_kb"] >= 16 * 2048 * 3 // 4
    else:  # a kernel without MADV_COLLAPSE (before 6.1) or with THP off: nothing changed
        assert result["huge_kb"] == 0


def _anon_huge_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(next(line.split()[1] for line in text.splitlines() if "AnonHugePages:" in line))


def test_a_zygote_that_forked_for_a_batch_forks_from_huge_pages(tmp_path: Path) -> None:
    if not _collapse_in_fresh_process()["done"]:
        pytest.skip("this kernel does not collapse memory into huge pages (MADV_COLLAPSE)")
    source = tmp_path / "hw1.py"
    source.write_text("import torch\ndef sigmoid(x):\n    return torch.sigmoid(x)\n")
    with Zygote(threads=1) as zygote:
        assert zygote.pid is not None
        sizes = []
        # the first run forks its child and a spare; each later run takes the spare and forks
        # the next: k runs, k + 1 forks. A batch of 8 must be collapsed by its end.
        for _ in range(8):
            run = zygote.run(
                sigmoid_request(source), {"x": torch.ones(3)}, task_seconds={}, total_seconds=30
            )
            assert run.ending == "done" and run.settled.wait(30)
            zygote.join_housekeeping()
            try:
                sizes.append(_anon_huge_kb(zygote.pid))
            except PermissionError:
                pytest.skip("the zygote's memory map is not readable by this user")
    # a `check` (at most four forks: reference, spare, submission, spare) never pays for the
    # collapse (0.5 s); a batch does, once
    assert sizes[2] == 0, sizes
    assert sizes[-1] >= 64 * 1024, sizes
