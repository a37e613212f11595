"""Read exactly one named file out of an untrusted zip, without trusting anything it claims.

Students' zips are hostile input: member names may contain ``..`` or absolute paths, sizes in
the headers may lie, a small member may inflate to gigabytes. So nothing is ever extracted by
its own name: the one matching member is streamed into memory with a hard byte cap.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path

MAX_MEMBERS = 10_000
_CHUNK = 1024 * 1024
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


class Rejected(Exception):
    """The candidate cannot be graded; the message says why (shown to the TA)."""


def megabytes(n: int) -> str:
    """``5242880`` -> ``"5.0 MB"``."""
    return f"{n / 1024 / 1024:.1f} MB"


def member_name(info: zipfile.ZipInfo) -> str | None:
    """The member's name as UTF-8 text, or None when its bytes are not UTF-8.

    Zip tools often write UTF-8 names without setting the UTF-8 flag; Python then decodes
    them as cp437, so they are re-encoded and tried as UTF-8.
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None if any(b >= 0x80 for b in raw) else raw.decode("ascii")


def _is_junk(parts: list[str]) -> bool:
    return "__MACOSX" in parts or parts[-1].startswith("._")


def read_single_member(
    archive: Path, filename: str, *, max_bytes: int, max_archive_bytes: int
) -> tuple[bytes, str]:
    """The bytes of the only member called ``filename`` (in any folder) and its name.

    Raises:
        Rejected: The archive is too big, unreadable or encrypted; holds no or several such
            members; the member's name is not UTF-8, it is a symlink, or it inflates past
            ``max_bytes``.
    """
    size = archive.stat().st_size
    if size > max_archive_bytes:
        raise Rejected(
            f"zip is {megabytes(size)}, over the {megabytes(max_archive_bytes)} limit; not opened"
        )
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise Rejected(f"zip holds {len(infos)} entries, over {MAX_MEMBERS}; not read")
            matches = _matches(infos, filename)
            if not matches:
                names = [member_name(i) or "<non-UTF-8 name>" for i in infos if not i.is_dir()]
                shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                raise Rejected(f"no {filename} inside the zip (it holds: {shown or 'nothing'})")
            if len(matches) > 1:
                shown = ", ".join(name or "<non-UTF-8 name>" for _, name in matches)
                raise Rejected(f"{len(matches)} files named {filename} inside the zip: {shown}")
            info, name = matches[0]
            if name is None:
                raise Rejected(f"the path of {filename} inside the zip is not valid UTF-8")
            return _read_capped(zf, info, name, max_bytes), name
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise Rejected(f"not a readable zip: {exc}") from None
    except NotImplementedError as exc:
        raise Rejected(f"zip uses an unsupported feature: {exc}") from None
    except UnicodeDecodeError:
        raise Rejected("zip declares UTF-8 names that are not valid UTF-8") from None
    except OSError as exc:
        raise Rejected(f"cannot read the zip: {exc.strerror or exc}") from None


def _matches(
    infos: list[zipfile.ZipInfo], filename: str
) -> list[tuple[zipfile.ZipInfo, str | None]]:
    found = []
    for info in infos:
        if info.is_dir():
            continue
        name = member_name(info)
        # A non-UTF-8 name can still end in the right file name (``d\xff/hw1.py``).
        shown = name if name is not None else info.filename
        parts = shown.replace("\\", "/").split("/")
        if _is_junk(parts) or parts[-1] != filename:
            continue
        found.append((info, name))
    return found


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, max_bytes: int) -> bytes:
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise Rejected(f"{name} inside the zip is encrypted")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise Rejected(f"{name} inside the zip is a symlink")
    if info.file_size > max_bytes:
        raise Rejected(
            f"{name} inside the zip is {megabytes(info.file_size)}, over the "
            f"{megabytes(max_bytes)} limit; not extracted"
        )
    chunks, total = [], 0
    with zf.open(info) as member:  # header sizes can lie: count what really comes out
        while chunk := member.read(min(_CHUNK, max_bytes + 1 - total)):
            total += len(chunk)
            chunks.append(chunk)
            if total > max_bytes:
                raise Rejected(
                    f"{name} inside the zip inflates past the "
                    f"{megabytes(max_bytes)} limit (zip bomb?); not extracted"
                )
    return b"".join(chunks)
