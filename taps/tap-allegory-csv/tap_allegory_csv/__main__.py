"""``python -m tap_allegory_csv``."""

from tap_allegory_csv.tap import TapAllegoryCsv

TapAllegoryCsv.cli()
