"""tap-supabase-atomic: Atomic CRM read from its Supabase PostgreSQL."""

__version__ = "0.1.0"
