"""Parse Python source in the trusted process, safely for threads and for hostile files.

CPython 3.11 keeps the AST builder's recursion counter per interpreter, not per thread, so
two threads parsing at once can fail with ``SystemError: AST constructor recursion depth
mismatch`` (cpython gh-106905); ``grade_many`` scans submissions on several threads, so every
parse in the grader goes through one lock. A hostile file can also make the parser itself run
out of memory or recursion depth; those become a ``SyntaxError`` the student can read.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str) -> ast.Module:
    """The module's AST; ``SyntaxError`` for any source the parser cannot turn into one."""
    with _LOCK:
        try:
            return ast.parse(source)
        except SyntaxError:
            raise
        except ValueError as exc:  # e.g. a NUL byte in the source
            raise SyntaxError(f"the file cannot be parsed: {exc}") from None
        except (RecursionError, MemoryError):
            raise SyntaxError(
                "the file is nested too deeply for Python's parser (expressions or blocks "
                "inside each other thousands of levels deep)"
            ) from None
