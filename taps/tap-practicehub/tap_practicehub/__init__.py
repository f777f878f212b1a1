"""Singer tap for PracticeHub."""

__version__ = "0.1.0"
