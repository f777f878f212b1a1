"""tap-visualpractice: a Singer tap for Visual Practice export folders (CSV and VPL files)."""

__version__ = "0.1.0"
