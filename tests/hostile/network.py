"""Phone home: TCP and UDP to a listener on the loopback interface."""

import socket

for kind in ("tcp", "udp"):
    try:
        if kind == "tcp":
            s = socket.create_connection(("127.0.0.1", int("__PORT__")), timeout=1)
            s.sendall(b"stolen-tcp")
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"stolen-udp", ("127.0.0.1", int("__PORT__")))
        s.close()
        print(f"{kind}: SENT")
    except OSError as exc:
        print(f"{kind}: blocked: {exc}")


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
