"""``verify``: read back every record an API run wrote and compare each field with what was sent.

- ``sent.py``: what the loader keeps of each body it sent (the audit log's ``sent`` and
  ``source``), so a run can be verified after its spool is gone;
- ``compare.py``: one field sent → stored, knowing how Twenty hands values back (the sample
  run's diff uses it too);
- ``check.py``: the read-back, paced like the load, at the server's page limit;
- ``files.py``: ``verify.csv`` and ``verify.html`` in the run's folder;
- ``command.py``: ``target-twenty-verify`` (``meltano invoke target-twenty:verify``);
- ``cost.py``: what a verify of a run costs, for the dry-run plan.
"""
