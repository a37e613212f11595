"""Talk to a service on the host through its pathname unix socket (say docker.sock), by stream
``connect`` and by datagrams that need no ``connect``. Pairs made with ``socketpair``, what
multiprocessing uses, must keep working."""

import socket

STREAM, DGRAM = "__STREAM_PATH__", "__DGRAM_PATH__"


def attempt(what, action):
    try:
        action()
        print(f"{what}: DONE", flush=True)
    except OSError as exc:
        print(f"{what}: blocked: {exc.__class__.__name__}", flush=True)


def stream():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(STREAM)
        s.sendall(b"from the worker")


def dgram():
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"from the worker", DGRAM)


def pair_dgram():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with a, b:
        a.sendto(b"from the worker", DGRAM)


def abstract():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect("\0" + STREAM)


attempt("stream", stream)
attempt("dgram", dgram)
attempt("pair-dgram", pair_dgram)
attempt("abstract", abstract)
a, b = socket.socketpair()
with a, b:
    a.sendall(b"ping")
    print(f"socketpair: {b.recv(4).decode()}", flush=True)


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
