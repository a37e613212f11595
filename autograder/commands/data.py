"""``autograder data where|import|download``: find, import and (opt-in) download benchmark data."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

import autograder.data as data_lib
from autograder.data import cache
from autograder.data.cifar_python import CIFAR_URL
from autograder.data.locations import explicit_root
from autograder.errors import DataError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="list the datasets; find, import or download the cat-vs-dog data"
    )
    sub = parser.add_subparsers(dest="data_command", required=True)
    listing = sub.add_parser("list", help="every dataset a trained-model check can use")
    listing.add_argument(
        "--check", action="store_true", help="load each one (slow) and say whether it is there"
    )
    listing.add_argument("--data", metavar="DIR", help=f"data root (overrides {data_lib.DATA_ENV})")
    where = sub.add_parser("where", help="list the places data is looked for, and the cache")
    where.add_argument("--data", metavar="DIR", help=f"data root (overrides {data_lib.DATA_ENV})")
    imp = sub.add_parser("import", help="verify, decode and cache an archive or folder")
    imp.add_argument("source", metavar="ARCHIVE_OR_FOLDER", type=Path)
    down = sub.add_parser("download", help="download the official CIFAR-10 (opt-in)")
    down.add_argument("--yes", action="store_true", help="agree to download about 163 MB")
    for p in (where, imp, down):
        p.add_argument(
            "--cache-dir", metavar="DIR", help="cache folder (overrides AUTOGRADER_CACHE)"
        )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    if args.data_command == "list":
        _list(console, args.data, args.check)
        return 0
    cache_dir = data_lib.default_cache_dir(args.cache_dir)
    if args.data_command == "where":
        _where(console, args.data, cache_dir)
        return 0
    if args.data_command == "download":
        if not args.yes:
            raise DataError(
                f"'autograder data download' fetches CIFAR-10 (about 163 MB) from {CIFAR_URL} "
                "into the cache; re-run with --yes to agree, or use --data DIR / "
                "'autograder data import ARCHIVE' for data you already have"
            )
        source = data_lib.download_cifar10(cache_dir / "cifar10")
    else:
        source = args.source
    _summary(console, data_lib.import_archive(source, cache_dir=cache_dir))
    return 0


def _list(console: Console, option: str | None, check: bool) -> None:
    from autograder.data.registry import datasets, load

    table = Table(title="Datasets trained-model checks can use")
    table.add_column("name")
    table.add_column("what", overflow="fold", ratio=2)
    table.add_column("where it comes from", overflow="fold", ratio=2)
    if check:
        table.add_column("here")
    for name, entry in sorted(datasets().items()):
        # plain Text, never markup: "pip install 'autograder[hw4]'" must keep its brackets
        row = [Text(name), Text(entry.title), Text(entry.provided_by)]
        if check:
            try:
                splits = load(name, option, 0)
                row.append(
                    Text(
                        f"yes: {splits.info.get('train', '?')} train, "
                        f"{splits.info.get('held_out', '?')} held out"
                    )
                )
            except DataError as exc:
                row.append(Text(f"no: {str(exc)[:200]}"))
        table.add_row(*row)
    console.print(table)


def _where(console: Console, option: str | None, cache_dir: Path) -> None:
    table = Table(title="Places searched for cat-vs-dog data, in order")
    table.add_column("searched as")
    table.add_column("kind")
    table.add_column("path", overflow="fold")
    table.add_column("found")
    for what, path, exists in data_lib.data_locations(option, cache_dir=cache_dir):
        setting, _, kind = what.partition(": ")
        table.add_row(setting, kind, str(path), "yes" if exists else "-")
    console.print(table)
    if explicit_root(option) is None:
        console.print(
            f"Neither --data nor {data_lib.DATA_ENV} is set: ../shared/data is searched only as a "
            "last resort."
        )
    recorded = cache.current(cache_dir)
    entries = cache.cache_entries(cache_dir) if cache_dir.is_dir() else []
    console.print(f"Cache folder: {cache_dir} ({len(entries)} file(s))")
    for entry in entries:
        mark = " (last imported)" if recorded and recorded[0] == entry.path else ""
        state = "ok" if entry.ok else "CORRUPT (rebuilt when its source is next loaded)"
        console.print(
            f"  {entry.key[:12]}  {entry.size / 1e6:.1f} MB  {state}{mark}: {entry.source}"
        )


def _summary(console: Console, path: Path) -> None:
    found = cache.read_cache(path)
    if found is None:
        raise DataError(f"{path}: cache file vanished right after it was written")
    tensors, source = found
    for split in ("train", "test"):
        counts = tensors[f"{split}_labels"].bincount(minlength=2).tolist()
        console.print(f"{split}: {sum(counts)} images (cat {counts[0]}, dog {counts[1]})")
    console.print(f"source: {source}")
    console.print(f"sha256: {path.stem.removeprefix('catdog-')}")
    console.print(f"cache:  {path}")
