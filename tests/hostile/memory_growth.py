"""Grow memory 64 MB at a time, touching every page, up to 2 GB (the cap keeps the test safe)."""

import mmap

held = []


def sigmoid(x):
    for i in range(32):
        block = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_SHARED if i % 2 else mmap.MAP_PRIVATE)
        block.write(b"\x01" * (64 << 20))
        held.append(block)
        print(f"holding {len(held) * 64} MB", flush=True)
    return x
