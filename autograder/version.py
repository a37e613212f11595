"""The grader's version: part of every gradebook key, so a grader change forces a regrade."""

__version__ = "0.1.0"
