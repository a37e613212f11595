"""The trusted process parses submissions one at a time and turns parser crashes into SyntaxError."""

from __future__ import annotations

import ast
import sys
import threading
from collections.abc import Iterator

import pytest

from autograder.trusted import forbidden, pysource


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def test_concurrent_scans_never_parse_at_the_same_time(
    monkeypatch: pytest.MonkeyPatch, fast_thread_switching: None
) -> None:
    """CPython 3.11's AST builder shares one recursion counter between threads (gh-106905):
    overlapping parses fail with SystemError, as one did in CI under grade_many."""
    real_parse = ast.parse
    inside, overlaps = [0], [0]
    guard = threading.Lock()

    def watched_parse(source: str, *args: object, **kwargs: object) -> ast.Module:
        with guard:
            inside[0] += 1
            overlaps[0] += inside[0] > 1
        try:
            for _ in range(50):  # widen the window in which another thread could enter
                pass
            return real_parse(source, *args, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(ast, "parse", watched_parse)
    source = "import torch\n" + "".join(
        f"def f{i}(x):\n    return torch.relu(x)\n" for i in range(40)
    )
    errors: list[BaseException] = []

    def scan_many() -> None:
        try:
            for _ in range(30):
                assert forbidden.scan(source) is not None
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=scan_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert overlaps[0] == 0


@pytest.mark.parametrize(
    "source",
    ["x = " + "-" * 100_000 + "1\n", "x = " + "(" * 300 + ")" * 300 + "\n", "x = 1\0\n"],
    ids=["parser out of memory", "too many parentheses", "NUL byte"],
)
def test_every_parser_failure_is_a_syntax_error(source: str) -> None:
    with pytest.raises(SyntaxError):
        pysource.parse(source)
    assert forbidden.scan(source) is None
