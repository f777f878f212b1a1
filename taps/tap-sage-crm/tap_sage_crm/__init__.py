"""tap-sage-crm: a Singer tap for Sage CRM."""
