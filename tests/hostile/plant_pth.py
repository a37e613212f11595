"""Plant a .pth in every site-packages and import-path folder, and files wherever it can."""

import os
import site
import sys

PAYLOAD = "import os; os.environ['PWNED'] = '1'\n"
targets = (
    set(sys.path)
    | set(site.getsitepackages())
    | {"/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "__EXTRA__"}
)
for folder in sorted(t for t in targets if t and os.path.isabs(t)):
    for name in ("zz_hostile.pth", "hostile_note.txt"):
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(PAYLOAD)
            print(f"WROTE {folder}/{name}")
        except OSError as exc:
            print(f"blocked {folder}: {exc.__class__.__name__}")
            break


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
