"""Every citation in the repository resolves inside it.

Code and docs cite the facts they rely on as ``docs/<file>.md §N.M`` (docs/README.md, "Citing").
This scans the repository's text files (code, comments, docstrings, YAML, Markdown, WSDL, shell
scripts) and reports:

- a reference to a document outside the repository: research notes (``facts/*.md``), a shared
  folder beside the checkout (``../shared``, ``shared/twenty``, ``/work/…``), a Twenty README that
  is not ours (``twenty/README``);
- a cited ``docs/*.md`` that does not exist, a ``§N.M`` it has no heading for, or a quoted heading
  (``docs/x.md, "Heading"``) it lacks;
- a bare ``§N`` with no document cited before it in the same file (in a docs file, a bare ``§``
  refers to that file itself);
- ``<path>.md, "Heading"`` (``README.md, "The export layout"``) whose file (``docs/…`` from the
  root, any other from the citing file's folder upwards) or heading is missing; a repository path
  ending in ``.md`` (``taps/…/README.md``) that does not exist; a project note that lives beside
  a checkout (``DESIGN.md``, ``HELPERS.md``, ``ISSUE-<n>.md``) and is not in the repository;
- a relative Markdown link (``[text](path#anchor)``) whose file or heading does not exist.

It imports nothing of the plugins. The planted tests below build a small tree in a temporary
folder and show that each kind of broken citation is caught.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve()  # names the forbidden forms on purpose

SKIP_DIRS = {
    ".git",
    ".venv",
    ".venv-peer",  # the bench's peer path (bench/allegory_throughput.py), gitignored
    ".meltano",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "output",
    "profile",  # the profile command's output folder (gitignored)
    "build",
    "dist",
}
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".yml",
    ".yaml",
    ".toml",
    ".cfg",
    ".ini",
    ".txt",
    ".wsdl",
    ".xml",
    ".sql",
    ".sh",
    ".j2",
    ".jinja",
    ".jinja2",
    ".json",
}
MAX_BYTES = 2_000_000

# Documents that are not in a clone of the repository.
# Each pattern starts with a literal, so that re finds candidates fast; what may not come before
# a match (a word character, "-", "/", ".") is checked by `starts_a_word`.
OUTSIDE = re.compile(
    r"facts/[\w-]+\.md"  # research notes
    r"|(?:\.\./)+shared\b"  # a folder beside the checkout
    r"|shared/(?:twenty|facts|DESIGN|README)"
    r"|twenty/README"  # a Twenty README that is not tests/fakes/twenty_contract's
    r"|/work/(?:shared|main|wt)\b"  # a path on one machine
)
PATHLIKE = re.compile(r"[\w./-]+")
DOC = re.compile(r"docs/([\w-]+\.md)(?![\w])")
SECTION = re.compile(r"§\s?(\d+(?:\.\d+)*)")
# `<path>.md, "Heading"`; the heading may run onto the next comment line.
HEADING_CITE = re.compile(r'\.md,\s+"([^"]{1,120})"')
# Project notes that live beside a checkout, not in it, unless the repository has them.
PROJECT_NOTES = re.compile(r"(?:DESIGN|HELPERS|ISSUE-\d+)\.md")
REPO_PATH = re.compile(
    r"(?:bench|examples|lib|plugins|scripts|taps|targets|tests|transforms)/[\w./-]*?\.md(?![\w])"
)
MD_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Headings:
    """A Markdown file's headings: section numbers, plain texts, GitHub anchors."""

    numbers: set[str]
    texts: set[str]
    anchors: set[str]


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def headings(path: Path) -> Headings:
    found = Headings(set(), set(), set())
    for match in HEADING.finditer(path.read_text(encoding="utf-8")):
        text = match.group(1)
        found.anchors.add(slug(text))
        numbered = NUMBERED.match(text)
        if numbered:
            found.numbers.add(numbered.group(1))
            text = numbered.group(2)
        found.texts.add(re.sub(r"\s*\[[^\]]*\]\s*$", "", text).strip().lower())
    return found


def text_files(root: Path) -> Iterator[Path]:
    """The repository's own text files (no virtualenvs, caches, run outputs, bench data)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not d.startswith(".venv")  # any venv: .venv-3.12 for the second Python's lane
            and not d.endswith(".egg-info")
            and Path(folder, d) != root / "bench" / "data"
        )
        for name in sorted(files):
            path = Path(folder, name)
            try:  # other tests running beside this one may remove their files meanwhile
                if path.resolve() == SELF or path.stat().st_size > MAX_BYTES:
                    continue
                if path.suffix in TEXT_SUFFIXES or (not path.suffix and _has_shebang(path)):
                    yield path
            except OSError:
                continue


def _has_shebang(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"#!"


def find_readme(start: Path, root: Path, relative: str) -> Path | None:
    """``relative`` from the citing file's folder upwards, then from the root."""
    folder = start
    while True:
        candidate = folder / relative
        if candidate.is_file():
            return candidate
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    candidate = root / relative
    return candidate if candidate.is_file() else None


def starts_a_word(text: str, match: re.Match[str], also: str = "") -> bool:
    """Whether nothing path-like comes right before ``match`` (``twenty-shared/`` is not ours)."""
    before = text[match.start() - 1 : match.start()]
    return not before or not (before.isalnum() or before in "_-" + also)


def outside_references(text: str) -> list[re.Match[str]]:
    """Each path-like word that names a document outside the repository, once."""
    found: dict[int, re.Match[str]] = {}
    for m in OUTSIDE.finditer(text):
        if not m.group(0).startswith(".") and not starts_a_word(text, m, "."):
            continue
        for word in PATHLIKE.finditer(text, max(0, m.start() - 200), m.end() + 200):
            if word.start() <= m.start() < word.end():
                found.setdefault(word.start(), word)
                break
    return list(found.values())


def scan(root: Path) -> list[Problem]:
    """Every citation problem under ``root`` (a repository checkout)."""
    root = root.resolve()
    cache: dict[Path, Headings] = {}

    def heads(path: Path) -> Headings:
        if path not in cache:
            cache[path] = headings(path)
        return cache[path]

    problems: list[Problem] = []
    for path in text_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = path.relative_to(root).as_posix()

        def report(offset: int, message: str, rel: str = rel, text: str = text) -> None:
            problems.append(Problem(rel, text.count("\n", 0, offset) + 1, message))

        # Citations and bare §, in order: a bare § belongs to the last document named. After a
        # broken citation (already reported) its § are not reported again.
        in_docs = rel.startswith("docs/") and rel.count("/") == 1 and path.suffix == ".md"
        current: Path | None = path if in_docs else None
        current_name = rel if in_docs else None
        tokens = sorted(
            [(m.start(), "outside", m) for m in outside_references(text)]
            + [(m.start(), "doc", m) for m in DOC.finditer(text) if starts_a_word(text, m, "./")]
            + [(m.start(), "section", m) for m in SECTION.finditer(text)],
            key=lambda t: t[0],
        )
        for offset, kind, m in tokens:
            if kind == "doc":
                name = f"docs/{m.group(1)}"
                target = root / name
                current, current_name = (target if target.is_file() else None), name
                if current is None:
                    report(offset, f"cites {name}, which does not exist")
            elif kind == "outside":
                report(offset, f"cites {m.group(0)!r}, outside the repository; cite docs/ instead")
                current, current_name = None, m.group(0)
            elif current is not None:
                if m.group(1) not in heads(current).numbers:
                    report(offset, f"{current_name} has no section §{m.group(1)}")
            elif current_name is None:
                report(offset, f"§{m.group(1)} without a docs/ document cited before it")

        for m in HEADING_CITE.finditer(text):
            start = m.start()
            while start and (text[start - 1].isalnum() or text[start - 1] in "_./-"):
                start -= 1
            cited = text[start : m.start()] + ".md"
            if cited.startswith("docs/") and not (root / cited).is_file():
                continue  # reported above
            cited_file = find_readme(path.parent, root, cited)
            heading = " ".join(re.sub(r"\n\s*(?:#|//|\*)?", " ", m.group(1)).split())
            if cited_file is None:
                report(start, f"cites {cited}, which is not found from {rel}")
            elif heading.lower() not in heads(cited_file).texts:
                where = cited_file.relative_to(root).as_posix()
                report(start, f'{where} has no heading "{heading}"')

        for m in PROJECT_NOTES.finditer(text):
            if starts_a_word(text, m, "./") and find_readme(path.parent, root, m.group(0)) is None:
                report(m.start(), f"cites {m.group(0)}, which is not in the repository")

        for m in REPO_PATH.finditer(text):
            if starts_a_word(text, m, "./") and not (root / m.group(0)).is_file():
                report(m.start(), f"cites {m.group(0)}, which does not exist")

        if path.suffix == ".md":
            for m in MD_LINK.finditer(text):
                link = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", link, re.I) or link.startswith("#"):
                    continue
                target_text, _, anchor = link.partition("#")
                target = (path.parent / target_text).resolve()
                if not target.exists():
                    report(m.start(), f"links to {link}, which does not exist")
                elif anchor and target.suffix == ".md" and anchor not in heads(target).anchors:
                    report(m.start(), f"links to {link}: no such heading")
    return problems


def test_every_citation_resolves_inside_the_repository() -> None:
    problems = scan(ROOT)
    assert not problems, "broken citations:\n" + "\n".join(map(str, problems))


def test_the_docs_index_lists_every_document() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    present = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert present <= listed, f"docs/README.md does not list {sorted(present - listed)}"


# --- planted examples: a small repository in a temporary folder ---------------------------------

DOCS_A = """# A

## 1. One

### 1.1 Sub one

## 2. Two [observed]
"""
GOOD = '''"""Facts from docs/a.md §1.1 and §2; also docs/a.md, "Sub one" and §1.

The layout is in README.md, "Layout"; see taps/tap-x/README.md.
"""
'''


def plant(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "docs/a.md": DOCS_A,
        "docs/README.md": "# Index\n\n[a](a.md), [one](a.md#11-sub-one), [tap](../taps/tap-x)\n",
        "taps/tap-x/README.md": "# tap-x\n\n## Layout\n",
        "taps/tap-x/tap_x/streams.py": GOOD,
    }
    for name, content in {**base, **files}.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return tmp_path


def test_a_correct_tree_has_no_problems(tmp_path: Path) -> None:
    assert scan(plant(tmp_path, {})) == []


NOTES = "fact" + "s/twenty.md"  # spelled apart so this file does not cite them itself
PLANTED = '"""A planted module."""\n'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"# Upsert rules ({NOTES} §1.5).\n", f"cites '{NOTES}', outside the repository"),
        ('"""As ../' + 'shared/facts/sources.md says."""', "cites '../shared/facts/sources.md'"),
        ("# v2.21 import (shared/" + "twenty/README.md).\n", "cites 'shared/twenty/README.md'"),
        ("# (docs/missing.md §1)\n", "cites docs/missing.md, which does not exist"),
        ("# (docs/a.md §3)\n", "docs/a.md has no section §3"),
        ("# (docs/a.md §1.1, §1.2)\n", "docs/a.md has no section §1.2"),
        ("# see §2\n", "§2 without a docs/ document cited before it"),
        ('# (docs/a.md, "Nope")\n', 'docs/a.md has no heading "Nope"'),
        ('"""(README.md, "Columns")"""\n', 'taps/tap-x/README.md has no heading "Columns"'),
        ("# rules: transforms/gone/README.md\n", "cites transforms/gone/README.md"),
        ('# (README.md, "The\n# Layouts")\n', 'taps/tap-x/README.md has no heading "The Layouts"'),
        ("# the shape we aim for (DESIGN.md)\n", "cites DESIGN.md, which is not in the repository"),
    ],
)
def test_a_planted_broken_citation_is_caught(tmp_path: Path, content: str, expected: str) -> None:
    root = plant(tmp_path, {"taps/tap-x/tap_x/planted.py": PLANTED + content})
    problems = scan(root)
    assert len(problems) == 1, problems
    assert (problems[0].path, problems[0].line) == ("taps/tap-x/tap_x/planted.py", 2)
    assert expected in problems[0].message


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("[gone](gone.md)", "links to gone.md, which does not exist"),
        ("[bad](a.md#9-nine)", "links to a.md#9-nine: no such heading"),
    ],
)
def test_a_planted_broken_link_in_docs_is_caught(tmp_path: Path, link: str, expected: str) -> None:
    root = plant(tmp_path, {"docs/b.md": f"# B\n\nSee §1 of nothing: {link}\n"})
    messages = [str(p) for p in scan(root)]
    assert f"docs/b.md:3: {expected}" in messages
    # in a docs file a bare § refers to the file itself, which has no §1
    assert "docs/b.md:3: docs/b.md has no section §1" in messages
