"""Benchmark data: the CIFAR-10 cat-vs-dog set, located, verified, decoded once and cached."""

from autograder.data.catdog import (
    KNOWN_ARCHIVE_SHA256,
    CatDog,
    data_locations,
    import_archive,
    load_catdog,
)
from autograder.data.cifar_python import download_cifar10
from autograder.data.locations import DATA_ENV, default_cache_dir, resolve_data_root

__all__ = [
    "DATA_ENV",
    "KNOWN_ARCHIVE_SHA256",
    "CatDog",
    "data_locations",
    "default_cache_dir",
    "download_cifar10",
    "import_archive",
    "load_catdog",
    "resolve_data_root",
]
