"""Leave scratch in a state that breaks a recursive delete: a 5,000-level tree (its paths are
longer than PATH_MAX), folders chmod-ed 000, a symlink loop and a symlink to a file outside
scratch (the grader must delete the link, never the file). Bounded: 5,000 levels, 2 files each.
"""

import os

os.symlink("__OUTSIDE__", "outside-link")
os.symlink(".", "loop")
os.mkdir("locked-empty", 0)  # mode 000 without chmod
os.mkdir("locked")
with open("locked/inside.txt", "w") as f:
    f.write("x")
try:
    os.chmod("locked", 0)
    print("chmod 000: done")
except OSError as exc:
    print(f"chmod 000: {exc.__class__.__name__}")
top = os.open(".", os.O_RDONLY)
here = top
for _level in range(5000):
    os.mkdir("d", dir_fd=here)
    os.symlink("..", "up", dir_fd=here)
    below = os.open("d", os.O_RDONLY, dir_fd=here)
    if here != top:
        os.close(here)
    here = below
os.mkdir("bottom", 0, dir_fd=here)
print("built 5000 levels")


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
