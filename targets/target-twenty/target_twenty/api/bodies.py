"""API mode: one spooled record → the JSON body Twenty's batch upsert takes.

Properties become Twenty's field names (relations their join column); owner e-mails become
workspace member ids; ``createdBy`` says the record came from an import; an attachment's file is
uploaded (``attach``, once the record is known to be sent) and its body points at the upload;
an attachment whose file the export lacks is written without one.
A relation to a record Twenty refused earlier in this load is dangling: left empty (a repair),
or the record is rejected when the relation is required.

``fingerprint`` is what the registry keeps of a confirmed body, so a re-run sends only records
whose body changed: the body without what differs every run though the record did not
(``createdBy``, which names the migration; it is taken before the upload adds its file id),
plus what a later step sends (the deferred relations) and the export's file, which the upload
reads.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from target_twenty.api.client import TwentyClient
from target_twenty.owners import Owners
from target_twenty.plan import FieldPlan, ObjectPlan
from target_twenty.spool import Spool
from target_twenty.workspace import Obj


class Bodies:
    def __init__(
        self,
        client: TwentyClient,
        spool: Spool,
        owners: Owners,
        failed_ids: dict[str, set[str]],
        lock: threading.RLock,
        migration_name: str,
    ) -> None:
        self.client, self.spool, self.owners = client, spool, owners
        self.failed_ids = failed_ids  # object -> ids Twenty refused in this load (shared)
        self.lock = lock
        self.created_by = {"source": "IMPORT", "name": migration_name}
        self.uploads = 0
        self.missing_files = 0  # attachments written without their file (not in the export)

    def body(
        self, plan: ObjectPlan, obj: Obj, seq: int, rid: str, record: dict
    ) -> tuple[dict, str | None]:
        body: dict[str, Any] = {"id": rid}
        for prop, value in record.items():
            if prop.startswith("_"):
                continue
            fp = plan.fields.get(prop)
            if fp is None or fp.deferred:
                continue
            if fp.kind == "RELATION" and fp.match == "userEmail":
                member = self._member(value)
                if member:
                    body[fp.column or fp.name] = member
                continue
            if fp.kind == "RELATION" and value in self.failed_ids.get(fp.target or "", ()):
                problem = self.dangling(seq, fp, value)
                if problem:
                    return body, problem
                continue
            body[fp.column or fp.name] = value
        if "createdBy" in obj.fields:
            body["createdBy"] = dict(self.created_by)
        return body, None

    @staticmethod
    def fingerprint(plan: ObjectPlan, body: dict, record: dict) -> str:
        """A hash of what this record's writes carry, stable from run to run."""
        file = dict(record.get("_file") or {})
        if file.get("relativePath"):
            file.pop("path", None)  # the export may have moved; its relative path is the file
        material = {
            "body": {k: v for k, v in body.items() if k != "createdBy"},  # before ``attach``
            "deferred": {p: record.get(p) for p, fp in plan.fields.items() if fp.deferred},
            "file": file,
        }
        text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def dangling(self, seq: int, fp: FieldPlan, target_id: str) -> str | None:
        reason = f"{fp.prop} points at {fp.target} {target_id}, which Twenty refused"
        if fp.intent.get("required"):
            return reason
        with self.lock:
            self.spool.repair(seq, fp.prop, target_id, reason + "; left empty")
        return None

    def _member(self, email: Any) -> str | None:
        with self.lock:
            return self.owners.resolve(email)

    def attach(self, obj: Obj, record: dict, body: dict, prior: dict | None) -> str | None:
        """An attachment's file, uploaded and pointed at by ``body`` (a problem, or None).

        ``prior`` is the record as Twenty holds it (None: not there yet). A file already there
        is not uploaded again (a file can be attached once only); an attachment an earlier run
        wrote without its file gets it once the export has it. A file not in the export is no
        reason to lose the attachment: it is written with its metadata (docs/twenty-contract.md
        §5.4), as in CSV mode, and the manifest lists the file as not found."""
        if obj.name != "attachment":
            return None
        info = record.get("_file") or {}
        if prior and (prior.get("file") or prior.get("fullPath")):
            return None
        if not info.get("exists") or not info.get("path"):
            with self.lock:
                self.missing_files += 1
            return None
        path, name = Path(info["path"]), record.get("name") or Path(info["path"]).name
        if "file" in obj.fields and obj.fields["file"].type == "FILES":
            uploaded = self.client.upload_file(obj.fields["file"].id or "", path, name)
            body["file"] = [{"fileId": uploaded["id"], "label": name}]
        elif "fullPath" in obj.fields:
            body["fullPath"] = self.client.upload_legacy(path, name)
        else:
            return "this workspace's attachments have neither a file nor a fullPath field"
        with self.lock:
            self.uploads += 1
        return None
