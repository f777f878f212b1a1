"""Shared pieces of the crm2twenty connectors."""
