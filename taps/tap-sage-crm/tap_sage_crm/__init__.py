"""tap-sage-crm: a Singer tap for Sage CRM."""

__version__ = "0.1.0"
