"""Shared pieces of the crm2twenty connectors."""

__version__ = "0.1.0"
