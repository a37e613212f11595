"""Submissions derived from a reference solution by overlays (see ``overlay.py``).

``hw1/``: one mutant per check of ``assignments/hw1.toml``, each with one realistic bug that must
cost exactly that check. ``hw1_alternatives/``: correct solutions in other styles (full marks).
``hw1_benchmark/``: bugs the benchmark must notice (fewer benchmark points).
"""
