"""Write the bundled workspace snapshot from a saved ``GET /rest/metadata/objects`` answer.

CSV mode needs no server, yet it must know Twenty's field labels (the import matches columns by
label), join columns, unique fields and options. It reads them from this snapshot unless the user
gives their own workspace's metadata (``metadata_file``) or an API to read it from.

    python scripts/snapshot_metadata.py ../../tests/fakes/twenty_contract/metadata-objects.json \
        target_twenty/data/workspace-v2.21.0.json
"""

from __future__ import annotations

import json
import sys

OBJECT_KEYS = (
    "id",
    "nameSingular",
    "namePlural",
    "labelSingular",
    "labelPlural",
    "isCustom",
    "isSystem",
    "isActive",
    "isRemote",
    "labelIdentifierFieldMetadataId",
)
FIELD_KEYS = (
    "id",
    "name",
    "label",
    "type",
    "isUnique",
    "isNullable",
    "isCustom",
    "isSystem",
    "isActive",
    "defaultValue",
    "options",
    "settings",
    "morphId",
)


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as handle:
        data = json.load(handle)
    objects = data["data"]["objects"] if isinstance(data["data"], dict) else data["data"]
    trimmed = []
    for obj in sorted(objects, key=lambda o: o["nameSingular"]):
        entry = {k: obj[k] for k in OBJECT_KEYS if k in obj}
        entry["fields"] = [
            {k: f[k] for k in FIELD_KEYS if k in f}
            for f in sorted(obj["fields"], key=lambda f: f["name"])
        ]
        trimmed.append(entry)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump({"data": {"objects": trimmed}}, handle, indent=1, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
