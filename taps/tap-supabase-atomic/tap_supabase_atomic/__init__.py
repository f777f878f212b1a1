"""tap-supabase-atomic: Atomic CRM read from its Supabase PostgreSQL."""
