from tap_practicehub.tap import TapPracticeHub

TapPracticeHub.cli()
