"""tanh makes the interpreter read address 0: the worker dies with SIGSEGV while grading
activations. (Through faulthandler, not ctypes: ctypes is a tampering finding of its own.)"""

import faulthandler


def tanh(x):
    faulthandler._sigsegv()
    return x
