from tap_sage_crm.tap import TapSageCrm

TapSageCrm.cli()
