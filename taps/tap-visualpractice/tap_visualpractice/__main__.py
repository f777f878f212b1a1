"""``python -m tap_visualpractice``."""

from tap_visualpractice.tap import TapVisualPractice

TapVisualPractice.cli()
