"""Discovery of submissions: every accepted layout and every ambiguity reported, not guessed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder.batch.intake import Discovery, discover
from autograder.errors import SubmissionError
from autograder.submission import read_submission, student_id_problem

CODE = b"def softmax(x):\n    return x\n"


def run(root: Path, tmp_path: Path, **kw) -> Discovery:
    out = tmp_path / "extract"
    out.mkdir(exist_ok=True)
    return discover(root, "hw1.py", extract_dir=out, **kw)


def write(path: Path, data: bytes = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_zip(path: Path, members: dict[str, bytes], **infos) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in infos:
                info.external_attr = infos[name]
            zf.writestr(info, data)
    return path


def problems(found: Discovery) -> dict[str, str]:
    return {p.location: p.message for p in found.problems}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "subs"
    r.mkdir()
    return r


def test_every_layout_is_found_with_copies_hashes_and_times(root: Path, tmp_path: Path) -> None:
    write(root / "alice" / "hw1.py", b"alice")
    write(root / "bob" / "Submission attempt" / "hw1.py", b"bob")  # LMS nesting
    write(root / "carol.py", b"carol")
    make_zip(
        root / "dave.zip",
        {"dave/hw1.py": b"dave", "__MACOSX/dave/._hw1.py": b"junk", "dave/notes.txt": b"x"},
    )
    for stamp, when in [
        ("20250301T100000Z", "2025-03-01T10:00:00Z"),
        ("20250302T100000Z", "2025-03-02T10:00:00+00:00"),
    ]:
        write(root / "hw1" / "erin" / stamp / "hw1.py", f"erin {stamp}".encode())
        write(
            root / "hw1" / "erin" / stamp / "manifest.json",
            json.dumps({"submitted_at": when, "student_id": "erin"}).encode(),
        )
    os.utime(root / "carol.py", (1_700_000_000, 1_700_000_000))  # a student's mtime
    received = datetime.now(UTC)
    found = run(root, tmp_path)
    assert found.problems == []
    by = [(s.student_id, s.source) for s in found.submissions]
    assert by == [
        ("alice", "alice/hw1.py"),
        ("bob", "bob/Submission attempt/hw1.py"),
        ("carol", "carol.py"),
        ("dave", "dave.zip!dave/hw1.py"),
        ("erin", "hw1/erin/20250301T100000Z/hw1.py"),
        ("erin", "hw1/erin/20250302T100000Z/hw1.py"),
    ]
    for sub in found.submissions:
        assert sub.path.is_file() and sub.path.name == "hw1.py"
        assert sub.path.is_relative_to(tmp_path / "extract")
        assert sub.sha256 == hashlib.sha256(sub.path.read_bytes()).hexdigest()
    assert found.submissions[0].path.read_bytes() == b"alice"
    assert found.submissions[3].path.read_bytes() == b"dave"
    # every file is timed by when this file system received it (its ctime), whatever its mtime
    # or manifest says; the manifest's time is kept as the student's claim
    for sub in found.submissions:
        assert sub.time_source == "received"
        assert abs(sub.submitted_at - received) < timedelta(minutes=5), sub
    assert found.submissions[2].submitted_at != datetime.fromtimestamp(1_700_000_000, UTC)
    erin = found.submissions[4:]
    assert [s.claimed_at for s in erin] == [datetime(2025, 3, d, 10, tzinfo=UTC) for d in (1, 2)]
    assert all(s.claimed_at is None for s in found.submissions[:4])


def test_the_submit_folder_itself_can_be_the_root(root: Path, tmp_path: Path) -> None:
    write(root / "hw1" / "erin" / "t1" / "hw1.py")
    write(root / "hw1" / "erin" / "t1" / "manifest.json", b'{"submitted_at": "2025-03-01"}')
    found = run(root / "hw1", tmp_path)
    assert [(s.student_id, s.source) for s in found.submissions] == [("erin", "erin/t1/hw1.py")]
    assert found.submissions[0].claimed_at == datetime(2025, 3, 1, tzinfo=UTC)
    assert found.submissions[0].submitted_at > datetime(2025, 3, 2, tzinfo=UTC)  # received now


def test_two_candidates_for_one_student_are_reported(root: Path, tmp_path: Path) -> None:
    write(root / "frank.py")
    write(root / "frank" / "hw1.py")
    write(root / "gina" / "hw1.py")
    write(root / "gina" / "backup" / "hw1.py")
    found = run(root, tmp_path)
    assert found.submissions == []
    got = problems(found)
    assert got["frank, frank.py"].startswith("2 candidate submissions for one student")
    assert "2 files named hw1.py: gina/backup/hw1.py, gina/hw1.py" in got["gina"]
    assert {p.student_id for p in found.problems} == {"frank", "gina"}


def test_zip_problems(root: Path, tmp_path: Path) -> None:
    make_zip(root / "empty.zip", {"readme.md": b"hi", "src/model.py": b"x"})
    make_zip(root / "twice.zip", {"a/hw1.py": b"1", "b/hw1.py": b"2"})
    make_zip(
        root / "link.zip", {"hw1.py": b"/etc/passwd"}, **{"hw1.py": (stat.S_IFLNK | 0o777) << 16}
    )
    (root / "notzip.zip").write_bytes(b"PK but not really" * 10)
    got = problems(run(root, tmp_path))
    assert got["empty.zip"] == "no hw1.py inside the zip (it holds: readme.md, src/model.py)"
    assert got["twice.zip"] == "2 files named hw1.py inside the zip: a/hw1.py, b/hw1.py"
    assert got["link.zip"] == "hw1.py inside the zip is a symlink"
    assert got["notzip.zip"].startswith("not a readable zip")


def test_zip_bombs_and_huge_files_are_refused(root: Path, tmp_path: Path) -> None:
    six_mb = b"\0" * (6 * 1024 * 1024)
    make_zip(root / "bomb.zip", {"hw1.py": six_mb})
    assert (root / "bomb.zip").stat().st_size < 100_000
    # The same member with headers claiming 100 bytes: the cap still holds.
    liar = make_zip(root / "liar.zip", {"hw1.py": six_mb})
    data = bytearray(liar.read_bytes())
    size = len(six_mb).to_bytes(4, "little")
    data = data.replace(size, (100).to_bytes(4, "little"))
    liar.write_bytes(bytes(data))
    with open(root / "huge.py", "wb") as f:  # sparse: 200 MB that is never read
        f.truncate(200 * 1024 * 1024)
    with open(root / "hugezip.zip", "wb") as f:
        f.truncate(200 * 1024 * 1024)
    got = problems(run(root, tmp_path))
    assert got["bomb.zip"] == (
        "hw1.py inside the zip is 6.0 MB, over the 1.0 MB limit; not extracted"
    )
    assert got["liar.zip"].startswith(("not a readable zip", "hw1.py inside the zip inflates"))
    assert got["huge.py"] == "hw1.py is 200.0 MB, over the 1.0 MB limit; not read"
    assert got["hugezip.zip"] == "zip is 200.0 MB, over the 100.0 MB limit; not opened"


def test_inflation_past_the_cap_is_caught_while_streaming(root: Path, tmp_path: Path) -> None:
    make_zip(root / "grow.zip", {"hw1.py": b"x" * 2000})
    got = problems(run(root, tmp_path, max_bytes=1000))
    assert "over the" in got["grow.zip"]
    # zipfile itself stops at a lying header's size (then fails the CRC); the byte cap is
    # the second line of defence, shown here with a member that yields more than it claims.
    from autograder.batch.zipmember import Rejected, _read_capped

    class Endless:
        def open(self, info: zipfile.ZipInfo) -> io.BytesIO:
            return io.BytesIO(b"x" * 5000)

    info = zipfile.ZipInfo("hw1.py")
    info.file_size = 10
    with pytest.raises(Rejected, match="inflates past the 0.0 MB limit"):
        _read_capped(Endless(), info, "hw1.py", max_bytes=1000)  # type: ignore[arg-type]


def test_non_utf8_names_are_reported(root: Path, tmp_path: Path) -> None:
    fd = os.open(os.fsencode(root) + b"/gr\xfcn.py", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, CODE)
    os.close(fd)
    bad = make_zip(root / "hannah.zip", {"dX/hw1.py": CODE})
    bad.write_bytes(bad.read_bytes().replace(b"dX/hw1.py", b"d\xff/hw1.py"))
    found = run(root, tmp_path)
    got = problems(found)
    assert got["gr\\xfcn.py"] == "file name is not valid UTF-8; rename it"
    assert got["hannah.zip"] == "the path of hw1.py inside the zip is not valid UTF-8"
    assert found.submissions == []


def test_symlinks_outside_are_refused_inside_are_followed(root: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", b"answers")
    (root / "mallory.py").symlink_to(secret)
    (root / "nick").mkdir()
    (root / "nick" / "hw1.py").symlink_to(secret)
    write(root / "store" / "real.txt", CODE)
    (root / "olga.py").symlink_to(root / "store" / "real.txt")
    found = run(root, tmp_path)
    got = problems(found)
    assert got["mallory.py"] == "symlink pointing outside the submissions folder; not followed"
    assert got["nick"] == "symlink pointing outside the submissions folder; not followed"
    assert [s.student_id for s in found.submissions] == ["olga"]
    owners = {p.location: p.student_id for p in found.problems}
    assert owners["mallory.py"] == "mallory" and owners["nick"] == "nick"
    assert "store" in got  # a folder without hw1.py is a student with no submission


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (".py", "empty student id"),
        ("...py", "starts with '.'"),
        ("a\\b.py", "contains '\\\\'"),
        ("bad:id.py", "contains ':'"),
        ("tab\t.py", "contains '\\t'"),
        (" x.py", "space"),
    ],
)
def test_invalid_student_ids(root: Path, tmp_path: Path, name: str, message: str) -> None:
    write(root / name)
    [problem] = run(root, tmp_path).problems
    assert message in problem.message and problem.student_id is None


def test_student_id_rules() -> None:
    assert student_id_problem("Smith, Anna_1234_assignsubmission_file_") is None
    assert student_id_problem("ünïcode-ok") is None
    assert student_id_problem("..") and student_id_problem("x" * 129)


def test_a_loose_hw1_py_junk_and_other_files(root: Path, tmp_path: Path) -> None:
    write(root / "hw1.py")
    write(root / ".DS_Store", b"\0")
    write(root / "index.csv", b"a,b")
    make_zip(root / "paul.zip", {"Paul/HW1.py": CODE})
    write(root / "quinn" / "hw1.txt", b"")
    found = run(root, tmp_path)
    got = problems(found)
    assert got["hw1.py"].startswith("hw1.py directly in the folder names no student")
    assert got["paul.zip"] == "no hw1.py inside the zip (it holds: Paul/HW1.py)"
    assert got["quinn"] == "no hw1.py in the folder"
    assert found.ignored == [".DS_Store", "index.csv"]


def test_a_near_miss_name_is_a_hint(root: Path, tmp_path: Path) -> None:
    write(root / "rita" / "HW1.py")
    assert problems(run(root, tmp_path))["rita"] == (
        "no hw1.py in the folder (found rita/HW1.py: the name must match exactly)"
    )


def test_manifest_problems(root: Path, tmp_path: Path) -> None:
    base = root / "hw1" / "sam"
    write(base / "t1" / "hw1.py")
    write(base / "t1" / "manifest.json", b'{"submitted_at": "yesterday"}')
    write(base / "t2" / "hw1.py")
    write(base / "t2" / "manifest.json", b'{"student_id": "tom"}')
    write(base / "t3" / "manifest.json", b"{}")
    write(base / "t4" / "hw1.py")
    write(base / "t5" / "manifest.json", b"[1, 2")
    found = run(root, tmp_path)
    got = problems(found)
    # the manifest's time is only a claim: an unreadable one is not shown, and costs nothing
    assert "hw1/sam/t1" not in got
    [t1] = [s for s in found.submissions if s.source == "hw1/sam/t1/hw1.py"]
    assert t1.claimed_at is None and t1.time_source == "received"
    assert got["hw1/sam/t2"] == "manifest.json names student 'tom', the folder 'sam'"
    assert got["hw1/sam/t3"] == "attempt folder has no hw1.py"
    assert got["hw1/sam/t4"] == "attempt folder has no manifest.json"
    assert got["hw1/sam/t5"].startswith("manifest.json is not readable JSON")
    assert all(p.student_id == "sam" for p in found.problems)


def test_problem_keys_are_stable_and_distinct(root: Path, tmp_path: Path) -> None:
    make_zip(root / "a.zip", {"x": b""})
    make_zip(root / "b.zip", {"x": b""})
    first = run(root, tmp_path).problems
    (tmp_path / "again").mkdir()
    again = discover(root, "hw1.py", extract_dir=tmp_path / "again").problems
    assert [p.key for p in first] == [p.key for p in again]
    assert len({p.key for p in first}) == 2


def test_root_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="not a folder of submissions"):
        run(tmp_path / "nope", tmp_path)


def test_a_zip_inside_a_student_folder_is_that_students_zip(root: Path, tmp_path: Path) -> None:
    make_zip(root / "vera" / "upload.zip", {"work/hw1.py": b"vera"})
    make_zip(root / "walt" / "a.zip", {"hw1.py": b"1"})
    make_zip(root / "walt" / "b.zip", {"hw1.py": b"2"})
    found = run(root, tmp_path)
    [sub] = found.submissions
    assert (sub.student_id, sub.source) == ("vera", "vera/upload.zip!work/hw1.py")
    assert sub.path.read_bytes() == b"vera"
    assert problems(found) == {"walt": "no hw1.py in the folder"}


def test_problems_in_the_submit_folder_are_reported_once(root: Path, tmp_path: Path) -> None:
    write(root / "hw1" / "xena" / "t1" / "hw1.py")
    write(root / "hw1" / "xena" / "t1" / "manifest.json", b"{}")
    (root / "hw1" / "yuri").mkdir()
    (root / "hw1" / "link").symlink_to(tmp_path)
    write(root / "hw1" / "notes.txt", b"")
    found = run(root, tmp_path)
    assert [p.location for p in found.problems] == ["hw1/link", "hw1/yuri"]
    assert found.ignored == ["hw1/notes.txt"]


def test_an_attempt_still_being_written_is_ignored(root: Path, tmp_path: Path) -> None:
    base = root / "hw1" / "zoe"
    write(base / ".tmp-0123abcd" / "hw1.py")
    write(base / ".tmp-0123abcd" / "manifest.json", b'{"submitted_at": "2025-03-01"}')
    write(base / "t1" / "hw1.py")
    write(base / "t1" / "manifest.json", b'{"submitted_at": "2025-02-01"}')
    found = run(root, tmp_path)
    assert [s.source for s in found.submissions] == ["hw1/zoe/t1/hw1.py"]
    assert found.problems == [] and found.ignored == ["hw1/zoe/.tmp-0123abcd"]


def test_read_submission_takes_a_str_or_a_path_and_names_what_is_wrong(tmp_path: Path) -> None:
    """Library callers pass plain strings too: those get the same answers, not an AttributeError."""
    good = write(tmp_path / "hw1.py")
    assert read_submission(str(good)) == read_submission(good) == CODE
    for path, reason in (
        (tmp_path / "missing.py", "no such file"),
        (tmp_path, "is a folder"),
        (write(tmp_path / "hw1.txt"), "not a Python file"),
    ):
        with pytest.raises(SubmissionError, match=reason):
            read_submission(str(path))
