"""tap-allegory-csv: a Singer tap for Allegory CRM export folders."""

__version__ = "0.1.0"
