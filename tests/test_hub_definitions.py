"""The Meltano Hub definitions in plugins/, the settings in meltano.yml and the READMEs match the
plugins.

A definition that names a setting the plugin lacks, or misses one it has, misleads everyone who
finds the plugin on the Hub; a secret that is not `sensitive` ends up in plain text; a setting
meltano.yml does not declare is dropped from the environment by Meltano (`<PLUGIN>_<SETTING>`).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import e2e_run
import pytest
import yaml
from meltano.core.setting_definition import SettingDefinition

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


def project_plugins() -> list[dict]:
    """meltano.yml's plugins, each as declared."""
    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    return [p for kind in meltano["plugins"].values() for p in kind]


def ours(plugin: dict) -> bool:
    """A plugin built here (installed from this checkout with the lock), not one from PyPI such
    as target-jsonl."""
    return str(plugin.get("pip_url", "")).endswith(" -c constraints.txt")


def built_plugins() -> list[dict]:
    """meltano.yml's plugins built here (not the ones inheriting one of them, nor one from PyPI,
    which has its own definition)."""
    return [p for p in project_plugins() if ours(p) and not p.get("inherit_from")]


def _sdk_settings() -> set[str]:
    """The settings singer-sdk adds to every plugin (stream maps, flattening, batch, …)."""
    from singer_sdk.helpers import capabilities

    return {
        name
        for attr in dir(capabilities)
        if attr.endswith("_CONFIG") and isinstance(getattr(capabilities, attr), dict)
        for name in getattr(capabilities, attr).get("properties", {})
    }


SDK_SETTINGS = _sdk_settings()


@functools.cache
def _about_markdown(executable: str) -> list[str]:
    out = subprocess.run(
        [str(BIN / executable), "--about", "--format=markdown"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return out.splitlines()


def test_there_is_a_definition_for_each_plugin_built_here() -> None:
    names = {p.parent.name for p in DEFINITIONS}
    assert {p["name"] for p in built_plugins()} <= names


def test_meltano_yml_setting_entries_have_only_keys_meltano_knows() -> None:
    # An unquoted `, ` inside a flow mapping (`{description: a, b}`) starts a new key: Meltano
    # then shows a cut description and keeps the junk key. Known keys: SettingDefinition's.
    known = set(inspect.signature(SettingDefinition.__init__).parameters) - {"self", "attrs"}
    for plugin in project_plugins():
        for setting in plugin.get("settings", []):
            where = f"meltano.yml: {plugin['name']}: {setting.get('name')}"
            assert set(setting) <= known, f"{where}: unknown keys {set(setting) - known}"
            assert isinstance(setting.get("description", ""), str), where
            for option in setting.get("options", []):
                assert set(option) == {"label", "value"}, f"{where}: option {option}"


def test_mappings_get_the_mapper_plugins_settings() -> None:
    # Meltano gives a mapping only its own `config:` (docs/singer-meltano.md §2.9): the mapping
    # sits on a plugin inheriting the mapper, with no config of its own to shadow the mapper's.
    for plugin in project_plugins():
        for mapping in plugin.get("mappings", []):
            assert plugin.get("inherit_from"), f"mapping {mapping['name']} on {plugin['name']}"
            assert not mapping.get("config"), f"mapping {mapping['name']}: set it on the mapper"
            assert not plugin.get("config") and not plugin.get("settings"), plugin["name"]


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
@pytest.mark.parametrize("plugin", built_plugins(), ids=lambda p: p["name"])
def test_meltano_yml_declares_exactly_the_plugins_settings(plugin: dict) -> None:
    props = about(plugin["executable"])["settings"]["properties"]
    declared = {s["name"]: s for s in plugin.get("settings", [])}
    assert sorted(set(declared) - set(props)) == [], "declared, but the plugin has no such setting"
    assert sorted(set(props) - set(declared)) == [], "the plugin's, but not declared"
    for name, schema in props.items():
        assert bool(declared[name].get("sensitive")) == bool(schema.get("secret")), name


def _readme(plugin: dict) -> Path:
    """The plugin's README: in the folder its pip_url installs last (`-e ./taps/tap-x`)."""
    words = plugin["pip_url"].split()
    return ROOT / words[len(words) - 1 - words[::-1].index("-e") + 1] / "README.md"


@pytest.mark.slow
@pytest.mark.parametrize("plugin", built_plugins(), ids=lambda p: p["name"])
def test_readmes_document_every_setting(plugin: dict) -> None:
    info = about(plugin["executable"])
    text = _readme(plugin).read_text(encoding="utf-8")
    missing = [
        name
        for name in info["settings"]["properties"]
        if f"`{name}`" not in text and not re.search(rf"^\| {re.escape(name)} \|", text, re.M)
    ]
    assert missing == [], f"{_readme(plugin).relative_to(ROOT)} does not name {missing}"
    # README.md's "Settings in one place": the plugin's own settings (the SDK's are in its README)
    row = next(
        line
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith(f"| {plugin['name']} |")
    )
    own = [n for n in info["settings"]["properties"] if n not in SDK_SETTINGS]
    assert [n for n in own if f"`{n}`" not in row] == [], "README.md's settings table"
    # a README table in `--about --format=markdown`'s own shape is that output, row for row
    if "| Setting | Required | Default | Description |" in text:
        generated = _about_markdown(plugin["executable"])
        rows = [
            line for line in text.splitlines() if re.match(r"^\| [a-z_]+ \| (True|False) \|", line)
        ]
        assert rows == [line for line in generated if line.split(" | ")[0][2:] in own]


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
    # the adds, then a secret set and the settings listed: one Meltano process for all of them
    adds = [
        {
            "args": [
                *("add", "--plugin-type", path.parent.parent.name[:-1]),  # extractors → extractor
                *(path.parent.name, "--from-ref", str(path), "--no-install"),
            ]
        }
        for path in DEFINITIONS
    ]
    secret = {"args": ["config", "set", "target-twenty", "api_key", "s3cr3t"]}
    listed = {"args": ["config", "list", "target-twenty"]}
    results, log = e2e_run.meltano_batch(project, [*adds, secret, listed])
    for command, result in zip([*adds, secret], results, strict=False):
        assert result["exit"] == 0, (command["args"], result["error"])
    assert results[-1]["exit"] == 0 and "api_key" in results[-1]["stdout"], results[-1]
    assert "s3cr3t" not in results[-1]["stdout"] + log
