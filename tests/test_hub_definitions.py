"""The Meltano Hub definitions in plugins/ and the settings in meltano.yml match the plugins.

A definition that names a setting the plugin lacks, or misses one it has, misleads everyone who
finds the plugin on the Hub; a secret that is not `sensitive` ends up in plain text.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MELTANO = shutil.which("meltano", path=str(BIN)) or "meltano"
DEFINITIONS = sorted((ROOT / "plugins").glob("*/*/crm2twenty.yml"))
KINDS = {
    "string",
    "integer",
    "decimal",
    "boolean",
    "date_iso8601",
    "email",
    "password",
    "oauth",
    "file",
    "options",
    "object",
    "array",
    "hidden",
}  # meltano/hub base_setting schema


@functools.cache  # one plugin start each, however many tests ask
def about(executable: str) -> dict:
    out = subprocess.run(
        [str(BIN / executable), "--about", "--format=json"],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    return json.loads(out)


def ours(plugin: dict) -> bool:
    """A plugin built here (installed from this checkout with the lock), not one from PyPI such
    as target-jsonl."""
    return str(plugin.get("pip_url", "")).startswith("-c constraints.txt ")


def test_there_is_a_definition_for_each_plugin_built_here() -> None:
    names = {p.parent.name for p in DEFINITIONS}
    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text())
    built = {p["name"] for kind in meltano["plugins"].values() for p in kind if ours(p)}
    assert built <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.parent.name)
def test_definition_names_exactly_the_plugins_settings(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    for field in (
        "name",
        "namespace",
        "variant",
        "pip_url",
        "executable",
        "repo",
        "description",
        "settings",
        "keywords",
        "maintenance_status",
    ):
        assert doc.get(field), f"{path}: {field} is missing"
    assert "meltano_sdk" in doc["keywords"]
    info = about(doc["executable"])
    declared = {s["name"]: s for s in doc["settings"]}
    assert set(declared) == set(info["settings"]["properties"])
    for name, schema in info["settings"]["properties"].items():
        assert declared[name]["kind"] in KINDS
        assert bool(declared[name].get("sensitive")) == bool(schema.get("secret")), name
    assert sorted(doc["capabilities"]) == sorted(info["capabilities"])


@pytest.mark.slow
def test_definitions_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/hub_definitions.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.slow
def test_meltano_yml_settings_are_real_and_secrets_sensitive() -> None:
    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text())
    for kind in meltano["plugins"].values():
        for plugin in filter(ours, kind):  # a plugin from elsewhere has its own definition
            info = about(plugin["executable"])
            props = info["settings"]["properties"]
            for setting in plugin.get("settings", []):
                assert setting["name"] in props, f"{plugin['name']}: {setting['name']}"
                if props[setting["name"]].get("secret"):
                    assert setting.get("sensitive") is True, setting["name"]


@pytest.mark.slow
def test_meltano_adds_each_definition(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELTANO_")}
    subprocess.run(
        [MELTANO, "init", "hubcheck"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    project = tmp_path / "hubcheck"
    for path in DEFINITIONS:
        kind = path.parent.parent.name[:-1]  # extractors → extractor
        done = subprocess.run(
            [
                MELTANO,
                "add",
                "--plugin-type",
                kind,
                path.parent.name,
                "--from-ref",
                str(path),
                "--no-install",
            ],
            cwd=project,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    secret = subprocess.run(
        [MELTANO, "config", "set", "target-twenty", "api_key", "s3cr3t"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert secret.returncode == 0, secret.stderr
    listed = subprocess.run(
        [MELTANO, "config", "list", "target-twenty"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "s3cr3t" not in listed.stdout + listed.stderr
