"""tap-allegory-csv: a Singer tap for Allegory CRM export folders."""
