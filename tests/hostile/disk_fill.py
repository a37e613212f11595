"""Fill the disk: 1 MB writes into many files in scratch, at most 64 files of 4 MB."""

import os

written = 0
for n in range(64):
    try:
        with open(f"fill-{n}.bin", "wb") as f:
            for _ in range(4):
                f.write(b"\0" * (1 << 20))
                written += 1 << 20
    except OSError as exc:
        print(f"stopped: {exc.__class__.__name__}: {exc}")
        break
print(f"wrote {written >> 20} MB in {os.getcwd()}")


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
