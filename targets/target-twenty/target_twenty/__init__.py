"""target-twenty: the Singer target that lands a CRM migration in Twenty.

The run, one stage a module, data flowing one way (migration.py calls them in this order):

- target.py, sinks.py: Singer plumbing; every record goes to the run, nothing is sent early
- intake.py: SCHEMA → plan.py's object/field plans; RECORD → checked values in the spool
  (a value Twenty's type refuses is repaired or rejected here)
- spool.py: the repository, the only SQL against the spool; ``Status``, ``reject``, ``repair``
- provision.py: what the workspace lacks → objects, fields, options (API mode)
- owners.py: owner e-mails → workspace members
- checks.py (+ api/preflight.py against the live workspace): duplicates, options, references,
  cycles → rejects, repairs, merges
- order.py: where the load order is decided (parents first; deferred self-references)
- write/: the ``Writer`` protocol; write/csv.py (spreadsheet files), write/api.py (the REST
  API: api/loader.py, api/bodies.py, api/dryrun.py, api/sample.py, api/client.py)
- registry.py, audit.py, rollback.py: what a run wrote, for delta runs and for undoing it
- outcome.py, report/: the typed write outcome, and the RunReport built from it

A new Twenty version's difference goes in workspace.py (metadata), crm2twenty_common.twenty
(names, types, validation) or api/client.py (REST shapes).
"""

__version__ = "0.1.0"
