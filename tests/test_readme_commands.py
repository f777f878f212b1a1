"""Every `meltano …` command a README shows works with the pinned Meltano (4.4.1).

The commands are read from every README.md of the repository: each line of a fenced code block
that runs `meltano` (after any `VAR=value` prefix), and each inline code span that is a
`meltano config` / `meltano invoke` command or a `meltano run` naming a loader. They run, in the
order shown, in one scratch copy of the project (its own meltano.yml, .env, system database and
output folder; the installed plugin venvs are shared through symlinks):

- `meltano config …` as shown; a `set` must name a setting the plugin declares in meltano.yml,
  and afterwards the config Meltano generates for the plugin (for the mapper: for the `mapper`
  mapping, which is what `meltano run` uses) holds every value set;
- `meltano run …` with `--dry-run`: Meltano parses the blocks and resolves every plugin and
  mapping name, offline (the pipelines themselves run in tests/test_e2e_*.py);
- `meltano invoke …` as shown, on the bundled sample;
- what needs a server or a run of another test is in SKIPPED_BY_DESIGN, with the reason.

A command no rule covers fails the fast test below, so a new README line is classified when it
is written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import e2e_run
import pytest
import yaml

ROOT = e2e_run.ROOT
READMES = sorted(
    p
    for p in ROOT.glob("**/README.md")
    if not any(part.startswith(".") or part == "output" for part in p.relative_to(ROOT).parts)
)
# (a pattern the shown command matches, why it is not run here)
SKIPPED_BY_DESIGN = [
    (
        r"rollback --run <run id>",
        "undoes an API run: needs the run id of a real load into Twenty "
        "(tests/test_e2e_api_load.py rolls one back)",
    ),
    (r"tap-<source>", "a pattern, not a command: each tap's own line is checked"),
    (r"<plugin>", "the general form, not a command: each plugin's own lines are checked"),
    (
        r"target-twenty:verify",
        "reads back an API run: needs a load into Twenty (tests/test_e2e_api_load.py verifies one "
        "against the fake Twenty)",
    ),
]
RUNNABLE_INVOKES = [
    r"^meltano invoke target-twenty:rollback --list$",
    r"^meltano invoke tap-[a-z-]+ \| "
    r"meltano invoke crm2twenty-mapper:(propose|profile)( --rules \S+)?$",
]
_ENV = re.compile(r"^[A-Z][A-Z0-9_]*=")


@dataclass(frozen=True)
class Shown:
    """One command as a README shows it."""

    readme: str
    line: int
    text: str  # the command without its trailing comment
    env: tuple[tuple[str, str], ...] = ()
    argv: tuple[str, ...] = ()  # the first (or only) command, without Meltano's global options
    piped: bool = False
    options: tuple[str, ...] = ()  # Meltano's global options, e.g. --environment=prod

    @property
    def args(self) -> tuple[str, ...]:
        """The arguments after `meltano`, as shown."""
        return (*self.options, *self.argv[1:])

    @property
    def where(self) -> str:
        return f"{self.readme}:{self.line}: {self.text}"


def _parse(readme: Path, line: int, text: str) -> Shown | None:
    text = re.sub(r"\s+#(\s.*)?$", "", text)  # a trailing comment
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return None
    env = []
    while words and _ENV.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env.append((name, value))
    if not words or words[0] != "meltano":
        return None
    piped = "|" in words
    argv = words[: words.index("|")] if piped else words
    options = []
    while len(argv) > 1 and argv[1].startswith("--environment"):
        options.append(argv.pop(1))
        if "=" not in options[-1] and len(argv) > 1:
            options.append(argv.pop(1))
    bare = text[text.index("meltano") :]  # as shown, without the VAR=value prefixes
    return Shown(
        str(readme.relative_to(ROOT)), line, bare, tuple(env), tuple(argv), piped, tuple(options)
    )


def shown_commands(readme: Path) -> list[Shown]:
    """The `meltano` commands of a README: code-block lines and whole inline commands."""
    out: list[Shown] = []
    fenced = False
    for number, raw in enumerate(readme.read_text(encoding="utf-8").splitlines(), 1):
        if raw.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            if (shown := _parse(readme, number, raw.strip())) is not None:
                out.append(shown)
            continue
        for span in re.findall(r"`([^`]+)`", raw):
            shown = _parse(readme, number, span)
            if shown is None or len(shown.argv) < 3:
                continue
            verb = shown.argv[1]
            if verb in ("config", "invoke") or (
                verb == "run" and any(w.startswith("target-") for w in shown.argv)
            ):
                out.append(shown)
    return out


ALL = [c for readme in READMES for c in shown_commands(readme)]


def skipped(shown: Shown) -> str | None:
    return next((why for pattern, why in SKIPPED_BY_DESIGN if re.search(pattern, shown.text)), None)


def kind(shown: Shown) -> str:
    """How the command is checked: config, run (dry), invoke, or skip."""
    if skipped(shown):
        return "skip"
    verb = shown.argv[1] if len(shown.argv) > 1 else ""
    if verb == "config" and not shown.piped:
        return "config"
    if verb == "run" and not shown.piped:
        return "run"
    if verb == "invoke" and any(re.match(p, shown.text) for p in RUNNABLE_INVOKES):
        return "invoke"
    return "unclassified"


def test_every_readme_command_is_checked_or_skipped_with_a_reason() -> None:
    assert ALL, "no meltano command found in any README"
    assert {c.readme for c in ALL} >= {"README.md", "transforms/crm2twenty-mapper/README.md"}
    unclassified = [c.where for c in ALL if kind(c) == "unclassified"]
    assert not unclassified, (
        "README commands no rule of tests/test_readme_commands.py covers (make them runnable "
        "offline, or add them to SKIPPED_BY_DESIGN with the reason):\n" + "\n".join(unclassified)
    )


def test_readmes_use_the_meltano_4_config_form() -> None:
    # `meltano config <plugin> set …` is Meltano 1's form; 4.x answers "No such command"
    verbs = {"set", "unset", "list", "print", "test", "reset"}
    old = [c.where for c in ALL if c.argv[1] == "config" and not set(c.argv[2:3]) & verbs]
    assert not old, "\n".join(old)


def _declared() -> dict[str, dict[str, dict]]:
    """Each plugin's declared settings in meltano.yml (an inheriting plugin's: its parent's)."""
    doc = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    plugins = [p for group in doc["plugins"].values() for p in group]
    own = {p["name"]: {s["name"]: s for s in p.get("settings", [])} for p in plugins}
    for p in plugins:
        if p.get("inherit_from"):
            own[p["name"]] = own[p["inherit_from"]] | own[p["name"]]
    return own


def _without_store(words: tuple[str, ...]) -> tuple[str, ...]:
    """``config set`` words without ``--store <where>`` (where the value is kept)."""
    out = list(words)
    for i, word in enumerate(out):
        if word == "--store":
            del out[i : i + 2]
            break
        if word.startswith("--store="):
            del out[i]
            break
    return tuple(out)


def _expected(setting: dict, value: str) -> object:
    """The value Meltano hands the plugin for ``meltano config set … <value>``."""
    if setting.get("kind") in ("object", "array", "integer", "decimal", "boolean"):
        return json.loads(value)
    return value


def _holds(got: object, expected: object) -> bool:
    """``got`` is ``expected``; for an object, holds each key set (Meltano merges an object set
    one key at a time into the one set whole)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        return all(got.get(k) == v for k, v in expected.items())
    return got == expected


def _env_settings(declared: dict[str, dict[str, dict]]) -> set[str]:
    """Every `<PLUGIN_NAME>_<SETTING>` variable Meltano reads for a declared setting."""
    return {
        f"{plugin}_{setting}".upper().replace("-", "_")
        for plugin, settings in declared.items()
        for setting in settings
    }


def _pipeline(project: Path, shown: Shown) -> subprocess.CompletedProcess:
    """A piped line, through the shell as a reader types it."""
    env = e2e_run.clean_env() | dict(shown.env)
    env["PATH"] = f"{Path(e2e_run.MELTANO).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", shown.text],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_readme_commands_work_offline_in_a_scratch_project(tmp_path: Path) -> None:
    project = e2e_run.shared_project(tmp_path / "project", own=(".env", "proposal", "profile"))
    declared = _declared()
    env_names = _env_settings(declared)
    failures: list[str] = []
    batch: list[tuple[str, dict]] = []  # (what it checks, command)
    set_values: dict[str, object] = {}  # mapper setting → what the `mapper` mapping must get
    # (global options, flags) → run lines (blocks checked together)
    runs: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Shown]] = {}
    pipelines: dict[str, Shown] = {}
    for shown in ALL:
        how = kind(shown)
        unknown = [name for name, _ in shown.env if name not in env_names]
        if unknown:
            failures.append(f"{shown.where}\n  no declared setting is read from {unknown}")
        if how == "config":
            words = _without_store(shown.argv[2:])
            if words[:1] == ("set",) and len(words) >= 4:
                plugin, setting, value = words[1], words[2], words[-1]
                setting, _, key = setting.partition(".")  # `object_setting.key value`
                spec = declared.get(plugin, {}).get(setting)
                if spec is None or (key and spec.get("kind") != "object"):
                    failures.append(f"{shown.where}\n  {plugin} declares no `{words[2]}`")
                    continue
                if plugin == "crm2twenty-mapper" and key:
                    before = set_values.get(setting)
                    set_values[setting] = (before if isinstance(before, dict) else {}) | {
                        key: value
                    }
                elif plugin == "crm2twenty-mapper":
                    set_values[setting] = _expected(spec, value)
            batch.append((shown.where, {"args": list(shown.args), "env": dict(shown.env)}))
        elif how == "invoke" and shown.piped:
            pipelines.setdefault(shown.text, shown)
        elif how == "invoke":
            batch.append((shown.where, {"args": list(shown.args), "env": dict(shown.env)}))
        elif how == "run":
            flags = tuple(w for w in shown.argv[2:] if w.startswith("-"))
            runs.setdefault((shown.options, flags), []).append(shown)
    # the mapper's settings as the `mapper` mapping gets them in `meltano run`
    dump = "the config `meltano run … mapper …` gives the mapper"
    if set_values:
        batch.append((dump, {"args": ["invoke", "--dump=config", "mapper"]}))
    # one dry run per environment and set of flags, every block in it
    for (options, flags), shown_runs in runs.items():
        blocks = [w for s in shown_runs for w in s.argv[2:] if not w.startswith("-")]
        where = "\n".join(s.where for s in shown_runs)
        batch.append((where, {"args": [*options, "run", "--dry-run", *flags, *blocks]}))
    results, _ = e2e_run.meltano_batch(project, [command for _, command in batch])
    for (where, _), result in zip(batch, results, strict=True):
        if result["exit"] != 0:
            failures.append(f"{where}\n  exit {result['exit']}: {result['error']}")
        elif where == dump:
            config = json.loads(result["stdout"])
            failures += [
                f"`meltano config set crm2twenty-mapper {name} …` does not reach the `mapper` "
                f"mapping: it gets {config.get(name)!r}, not {value!r}"
                for name, value in set_values.items()
                if not _holds(config.get(name), value)
            ]
    for shown in pipelines.values():  # after the batch: the system database exists by now
        done = _pipeline(project, shown)
        if done.returncode != 0:
            tail = "\n    ".join(done.stderr.strip().splitlines()[-8:])
            failures.append(f"{shown.where}\n  exit {done.returncode}:\n    {tail}")
        elif "propose" in shown.text and not list((project / "proposal").glob("*-rules.yml")):
            failures.append(f"{shown.where}\n  wrote no proposal/*-rules.yml")
        elif "profile" in shown.text and not list((project / "profile").glob("*/profile.json")):
            failures.append(f"{shown.where}\n  wrote no profile/<source>/profile.json")
    assert batch, "nothing ran"
    assert not failures, "README commands that fail:\n" + "\n".join(failures)
