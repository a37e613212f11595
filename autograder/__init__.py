"""autograder: grade PyTorch homework numerically against reference solutions, never trusting student code."""

from autograder.version import __version__

__all__ = ["__version__"]
