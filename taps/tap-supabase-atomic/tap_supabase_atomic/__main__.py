from tap_supabase_atomic.tap import TapSupabaseAtomic

TapSupabaseAtomic.cli()
