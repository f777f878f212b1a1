"""The packages are publishable: one version source each, the licence in every wheel, every
import declared, compatible-release ranges in their metadata and exact versions only in the lock
file (constraints.txt), which the development venv and every Meltano plugin venv install with;
and each plugin's wheel, installed alone beside crm2twenty-common, runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMON = "lib/crm2twenty-common"
PLUGINS = [
    "taps/tap-allegory-csv",
    "taps/tap-sage-crm",
    "taps/tap-supabase-atomic",
    "taps/tap-practicehub",
    "taps/tap-visualpractice",
    "transforms/crm2twenty-mapper",
    "targets/target-twenty",
]
PACKAGES = [COMMON, *PLUGINS]


def name_of(path: str) -> str:
    text = (ROOT / path / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^name = "(.+)"$', text, re.M)[1]  # type: ignore[index]


def lock() -> dict[str, str]:
    """constraints.txt: canonical name → exact version."""
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


@pytest.mark.parametrize("path", PACKAGES)
def test_one_version_source_and_compatible_ranges(path: str) -> None:
    """(The metadata read is the installed one, which hatchling built from pyproject.toml.)"""
    name = name_of(path)
    module = name.replace("-", "_")
    text = (ROOT / path / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in text and "\nversion =" not in text, path
    source = re.search(r'^\[tool\.hatch\.version\]\n(?:#.*\n)*path = "(.+)"$', text, re.M)
    assert source and source[1] == f"{module}/__init__.py", path
    init = (ROOT / path / module / "__init__.py").read_text(encoding="utf-8")
    (version,) = re.findall(r'^__version__ = "(\d+\.\d+\.\d+)"$', init, re.M)
    assert metadata.version(name) == version
    for dep in metadata.requires(name) or []:
        specs = list(Requirement(dep).specifier)
        assert len(specs) == 1 and specs[0].operator == "~=", f"{path}: {dep} is not ~="
    assert metadata.metadata(name)["License-Expression"] == "Apache-2.0"
    assert (ROOT / path / "LICENSE").read_text(encoding="utf-8") == (ROOT / "LICENSE").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize("path", PACKAGES)
def test_every_import_is_declared(path: str) -> None:
    """deptry: no import missing from the dependencies (nor only there through another
    package), no dependency unused."""
    done = subprocess.run(
        [str(BIN / "deptry"), ".", "--extend-exclude", "tests", "--no-ansi"],
        cwd=ROOT / path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_lock_pins_what_the_venvs_hold() -> None:
    """Every exact version lives in constraints.txt; the dev venv and every plugin venv install
    with it, and the dev venv holds exactly those versions (scripts/lock rewrites it)."""
    pins = lock()
    assert (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").count(
        "-c constraints.txt\n"
    ) == 1
    plugins = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))["plugins"]
    urls = [p["pip_url"] for kind in plugins.values() for p in kind if "pip_url" in p]
    # ours install with the lock; a plugin from PyPI (target-jsonl, whose own pins clash with
    # singer-sdk's) is pinned exactly in its own venv
    theirs = [url for url in urls if not url.endswith(" -c constraints.txt")]
    assert len(urls) - len(theirs) == len(PLUGINS)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", url) for url in theirs), theirs
    ours = {canonicalize_name(name_of(p)) for p in PACKAGES}
    stale = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in ours or name in {"pip", "setuptools", "wheel"}:
            continue
        if pins.get(name) != dist.version:
            stale[name] = (pins.get(name), dist.version)
    if sys.version_info[:2] == (3, 11):  # the lock is written on 3.11; elsewhere a few differ
        assert not stale, f"constraints.txt is stale (run scripts/lock): {stale}"


@pytest.fixture(scope="module")
def common_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(COMMON, tmp_path_factory.mktemp("common"))


def build(path: str, out: Path) -> Path:
    uv(["build", "--wheel", "--offline", "--out-dir", str(out), str(ROOT / path)])
    (wheel,) = out.glob("*.whl")
    return wheel


def uv(args: list[str]) -> None:
    # uv, the installer Meltano itself uses (a meltano dependency), from its cache only: the
    # plugin venvs that scripts/bootstrap installed from the same lock put every wheel there
    env = {**os.environ, "UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1"}
    done = subprocess.run(
        [str(BIN / "uv"), *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, f"uv {' '.join(args)}:\n{done.stderr[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("path", PLUGINS)
def test_each_wheel_installs_alone_and_runs(path: str, common_wheel: Path, tmp_path: Path) -> None:
    """Built as a wheel (with its licence), installed in a fresh venv with only
    crm2twenty-common beside it, at the lock's versions: an undeclared dependency or a module
    left out of the wheel fails `--about`."""
    wheel = build(path, tmp_path / "dist")
    name = name_of(path)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
        # (the tests compile the checkout's modules beside their sources: none may ship)
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")], names
    venv = tmp_path / "venv"
    uv(["venv", "--offline", "--quiet", "--python", sys.executable, str(venv)])
    python = venv / "bin" / "python"
    uv(
        [
            *("pip", "install", "--offline", "--quiet", "--python", str(python)),
            *("-c", str(ROOT / "constraints.txt"), str(wheel), str(common_wheel)),
        ]
    )
    done = subprocess.run(
        [str(venv / "bin" / name), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    about = json.loads(done.stdout)
    assert about["name"] == name
    assert about["version"] == wheel.name.split("-")[1]
