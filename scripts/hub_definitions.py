"""Write the Meltano Hub definitions in plugins/ from each plugin's own ``--about`` output.

The settings list comes from the plugin itself (``<executable> --about --format=json``), so a Hub
definition can never name a setting the plugin lacks, or miss one it has; what the Hub needs beyond
that (label, keywords, pip_url) is in PLUGINS below. Fields follow meltano/hub's plugin schema
(docs/singer-meltano.md §2.5). Run after changing a plugin's settings:

    .venv/bin/python scripts/hub_definitions.py          # rewrite plugins/
    .venv/bin/python scripts/hub_definitions.py --check  # exit 1 if plugins/ is out of date
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REPO = "https://github.com/crm2twenty/crm2twenty"
VARIANT = "crm2twenty"
COMMON = f"git+{REPO}.git#subdirectory=lib/crm2twenty-common"
# The Pythons the tests run on (.ci/run: every lane on .venv's 3.11, the unit lane on 3.12): the
# Hub claims these, not every version the packages' Requires-Python admits.
TESTED_PYTHONS = ("3.11", "3.12")

PLUGINS = [
    {
        "type": "extractors",
        "name": "tap-allegory-csv",
        "path": "taps/tap-allegory-csv",
        "label": "Allegory (CSV export)",
        "domain_url": "https://github.com/crm2twenty/crm2twenty",
        "keywords": ["file", "csv", "crm", "meltano_sdk"],
        "common": True,
        "logo": "allegory",
        "settings_group_validation": [["export_dir"]],
    },
    {
        "type": "extractors",
        "name": "tap-sage-crm",
        "path": "taps/tap-sage-crm",
        "label": "Sage CRM",
        "domain_url": "https://www.sage.com/en-gb/sage-business-cloud/sage-crm/",
        "keywords": ["crm", "sage", "soap", "api", "meltano_sdk"],
        "common": True,
        "logo": "sage-crm",
        "settings_group_validation": [["base_url", "username", "password"]],
    },
    {
        "type": "extractors",
        "name": "tap-supabase-atomic",
        "path": "taps/tap-supabase-atomic",
        "label": "Atomic CRM (Supabase)",
        "domain_url": "https://marmelab.com/atomic-crm/",
        "keywords": ["crm", "atomic-crm", "supabase", "postgres", "database", "meltano_sdk"],
        "common": True,
        "logo": "atomic-crm",
        "settings_group_validation": [["dsn"], ["host", "database", "user", "password"]],
    },
    {
        "type": "extractors",
        "name": "tap-practicehub",
        "path": "taps/tap-practicehub",
        "label": "PracticeHub",
        "domain_url": "https://practicehub.io",
        "keywords": ["api", "rest", "clinic", "healthcare", "crm", "meltano_sdk"],
        "common": True,
        "logo": "practicehub",
        "settings_group_validation": [
            ["account", "api_key", "app_details"],
            ["api_url", "api_key", "app_details"],
        ],
    },
    {
        "type": "extractors",
        "name": "tap-visualpractice",
        "path": "taps/tap-visualpractice",
        "label": "Visual Practice (CSV / VPL export)",
        "domain_url": "https://www.visualpractice.com",
        "keywords": ["file", "csv", "vpl", "crm", "meltano_sdk"],
        "common": True,
        "logo": "visualpractice",
        "settings_group_validation": [["export_dir"]],
    },
    {
        "type": "mappers",
        "name": "crm2twenty-mapper",
        "path": "transforms/crm2twenty-mapper",
        "label": "crm2twenty mapper",
        "domain_url": "https://twenty.com",
        "keywords": ["crm", "twenty", "migration", "meltano_sdk"],
        "common": True,
        "logo": "twenty",
    },
    {
        "type": "loaders",
        "name": "target-twenty",
        "path": "targets/target-twenty",
        "label": "Twenty CRM",
        "domain_url": "https://twenty.com",
        "keywords": ["crm", "twenty", "api", "csv", "meltano_sdk"],
        "common": True,
        "logo": "twenty",
    },
]

_KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
}


def about(executable: str) -> dict:
    exe = shutil.which(executable, path=str(Path(sys.executable).parent)) or executable
    out = subprocess.run(
        [exe, "--about", "--format=json"], capture_output=True, check=True, timeout=120
    ).stdout
    return json.loads(out)


def setting(name: str, schema: dict) -> dict:
    types = schema.get("type", "string")
    types = [t for t in ([types] if isinstance(types, str) else types) if t != "null"] or ["string"]
    entry: dict = {"name": name, "label": name.replace("_", " ").replace(".", " ").title()}
    if schema.get("description"):
        entry["description"] = schema["description"]
    if "enum" in schema:
        entry["kind"] = "options"
        entry["options"] = [{"label": str(v).title(), "value": v} for v in schema["enum"] if v]
    elif schema.get("format") == "date-time":
        entry["kind"] = "date_iso8601"
    else:
        entry["kind"] = _KINDS.get(types[0], "string")
    if schema.get("secret"):
        entry["sensitive"] = True
    if "default" in schema:
        entry["value"] = schema["default"]
    return entry


def definition(plugin: dict) -> dict:
    info = about(plugin["name"])
    pip_url = f"git+{REPO}.git#subdirectory={plugin['path']}"
    if plugin["common"]:
        pip_url = f"{COMMON} {pip_url}"
    doc: dict = {
        "name": plugin["name"],
        "namespace": plugin["name"].replace("-", "_"),
        "variant": VARIANT,
        "label": plugin["label"],
        "description": info["description"].split(". ")[0].strip(".") + ".",
        "logo_url": f"/assets/logos/{plugin['type']}/{plugin['logo']}.png",
        "domain_url": plugin["domain_url"],
        "repo": REPO,
        "docs": f"{REPO}/tree/main/{plugin['path']}#readme",
        "pip_url": pip_url,
        "executable": plugin["name"],
        "maintenance_status": "development",
        "quality": "unknown",
        "keywords": plugin["keywords"],
        "supported_python_versions": [
            v for v in info.get("supported_python_versions", []) if v in TESTED_PYTHONS
        ],
    }
    doc["capabilities"] = sorted(info["capabilities"])
    doc["settings"] = [setting(n, s) for n, s in info["settings"].get("properties", {}).items()]
    if plugin.get("settings_group_validation"):
        doc["settings_group_validation"] = plugin["settings_group_validation"]
    return doc


def path_of(plugin: dict) -> Path:
    return ROOT / "plugins" / plugin["type"] / plugin["name"] / f"{VARIANT}.yml"


def render(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if plugins/ is out of date")
    args = parser.parse_args()
    stale = []
    for plugin in PLUGINS:
        path = path_of(plugin)
        text = render(definition(plugin))
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
    if stale:
        print("out of date (run scripts/hub_definitions.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
