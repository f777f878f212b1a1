"""The mapper's `rules` and `rule_options`, set the ways its README shows, change what
`meltano run tap-allegory-csv mapper target-twenty` uses: `meltano config set crm2twenty-mapper …`
(meltano.yml), then `CRM2TWENTY_MAPPER_…` in the environment, which wins over it. The proof is
the mapper's own log line naming the rules file and the options it got.

Meltano keeps each option meltano.yml names under `rule_options` (it flattens an object setting
into `rule_options.<option>`), so over meltano.yml's options the environment sets one option,
`CRM2TWENTY_MAPPER_RULE_OPTIONS_<OPTION>`; the whole object from the environment counts only
while meltano.yml sets none.

Meltano gives a mapping only its own `config:`; meltano.yml puts the `mapper` mapping on a plugin
inheriting crm2twenty-mapper, which is what makes these reach the run (docs/singer-meltano.md
§2.9). Runs in a scratch copy of the project, since `meltano config set` rewrites meltano.yml.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import e2e_run
import pytest

pytestmark = pytest.mark.e2e

BUILTIN = e2e_run.ROOT / "transforms/crm2twenty-mapper/crm2twenty_mapper/rules/allegory.yml"
# the tap's small fixture export (the sample's size changes nothing here; each run reads it all)
EXPORT = e2e_run.ROOT / "taps/tap-allegory-csv/tests/fixture_export"


def _rules_copy(path: Path) -> Path:
    """The built-in Allegory rules, plus an option a run can be told (it changes no output)."""
    text = BUILTIN.read_text(encoding="utf-8")
    assert "\noptions:" not in text  # (the probe is the only option)
    path.write_text(f"{text.rstrip()}\noptions: {{probe: unset}}\n", encoding="utf-8")
    return path


def _mapping_line(log: str) -> str:
    return next(line for line in log.splitlines() if "Mapping with" in line)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return e2e_run.shared_project(tmp_path_factory.mktemp("mapper-settings") / "project", (".env",))


def _run(project: Path, tmp: Path, env: dict[str, str]) -> str:
    done = e2e_run.meltano(
        [
            "run",
            "--state-id-suffix",
            f"mapper-settings-{uuid.uuid4().hex}",
            "tap-allegory-csv",
            "mapper",
            "target-twenty",
        ],
        tmp / "out",
        {"TAP_ALLEGORY_CSV_EXPORT_DIR": str(EXPORT), **env},
        project=project,
    )
    return _mapping_line(done.stdout + done.stderr)


def test_config_set_and_the_environment_reach_the_mapping_in_a_run(
    project: Path, tmp_path: Path
) -> None:
    by_config = _rules_copy(tmp_path / "by-config.yml")
    by_env = _rules_copy(tmp_path / "by-env.yml")
    # the environment alone (meltano.yml sets neither): the whole object
    whole = {"CRM2TWENTY_MAPPER_RULES": str(by_env), "CRM2TWENTY_MAPPER_RULE_OPTIONS": '{"a": 1}'}
    # then the README's `meltano config set` lines (one Meltano process for the three commands)
    sets = [
        {"args": ["config", "set", "crm2twenty-mapper", setting, value]}
        for setting, value in (("rules", str(by_config)), ("rule_options", '{"probe": "config"}'))
    ]
    dumped, *set_results = e2e_run.meltano_batch(
        project, [{"args": ["invoke", "--dump=config", "mapper"], "env": whole}, *sets]
    )[0]
    assert [r["exit"] for r in (dumped, *set_results)] == [0, 0, 0], (dumped, set_results)
    config = json.loads(dumped["stdout"])
    assert (config.get("rules"), config.get("rule_options")) == (str(by_env), {"a": 1})
    line = _run(project, tmp_path / "a", {})
    assert f"Mapping with {by_config} (source allegory), option probe=config" in line, line
    assert "(built in)" not in line
    line = _run(
        project,
        tmp_path / "b",
        {
            "CRM2TWENTY_MAPPER_RULES": str(by_env),
            "CRM2TWENTY_MAPPER_RULE_OPTIONS_PROBE": "environment",
        },
    )
    assert f"Mapping with {by_env} (source allegory), option probe=environment" in line, line
