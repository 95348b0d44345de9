"""Every source citation resolves (docs/behaviour.md, "Citing a section").

The code, the tests and the docs cite docs/behaviour.md by heading: `(docs/behaviour.md,
"Target health checks")`. These tests check that every cited heading exists, that no citation
of the numbered reference ecsim was first written from ("reference 2.3", "(3.1)", "reference,
section 5") is left (that file is not in the repository), that every behaviour section of
docs/behaviour.md names the AWS page it follows (or says `AWS: none`), and that every
`ecsim.Settings` field is named in the section that explains it.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from ecsim import Settings

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOUR = ROOT / "docs" / "behaviour.md"
AWS_DOCS = "https://docs.aws.amazon.com/"

# Sections of docs/behaviour.md about the file itself, not about a behaviour.
NOT_BEHAVIOURS = {"About this file", "Citing a section", "Source keys", "Settings index"}

# `docs/<name>.md, "Heading", "Other heading"`, backticks around the path allowed.
CITATION = re.compile(
    r"`?docs/(?P<doc>[\w-]+)\.md`?,\s*(?P<names>\"[^\"]+\"(?:\s*,\s*\"[^\"]+\")*)"
)
NAME = re.compile(r"\"([^\"]+)\"")

# How the numbered reference was cited: "reference 2.3", "Reference section 2", "reference,
# section 5", "reference sections 3", "ref §3", its file name, and bare "(3.3)", "(3.1, 3.2)",
# "(2.5-2.8)" (not a call such as `run(1.0)`).
OLD_CITATIONS = [
    re.compile(r"\breference\s*,?\s+(?:sections?\s+)?\d", re.IGNORECASE),
    re.compile(r"\bref(?:erence)?\.?\s*§|§\s*\d", re.IGNORECASE),
    re.compile(r"ecs-alb-behavior"),
    re.compile(
        r"(?<![\w.])\(\s*[1-7]\.\d{1,2}(?:\s*(?:,|and|-|\u2013)\s*(?:[1-7]\.)?\d{1,2})*\s*\)"
    ),
]


@dataclasses.dataclass(frozen=True)
class Section:
    level: int
    title: str
    body: str
    leaf: bool


@cache
def sections(doc: Path) -> tuple[Section, ...]:
    """The `##` / `###` sections of a markdown file, with their text up to the next heading."""
    heads: list[tuple[int, str, int, int]] = []
    lines = doc.read_text().splitlines()
    fenced = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"(#{2,4}) (.+?)\s*$", line)
        if m:
            heads.append((len(m.group(1)), m.group(2), i, 0))
    out = []
    for k, (level, title, start, _) in enumerate(heads):
        end = heads[k + 1][2] if k + 1 < len(heads) else len(lines)
        leaf = k + 1 == len(heads) or heads[k + 1][0] <= level
        out.append(Section(level, title, "\n".join(lines[start + 1 : end]), leaf))
    return tuple(out)


def headings(doc: Path) -> set[str]:
    return {s.title for s in sections(doc)}


def python_text(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment block and string literal in a Python file: what a
    citation can be written in. Consecutive comment lines form one block."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    block: list[str] = []
    block_start = last = 0
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            if block and tok.start[0] != last + 1:
                yield block_start, " ".join(block)
                block = []
            if not block:
                block_start = tok.start[0]
            block.append(tok.string.lstrip("#").strip())
            last = tok.start[0]
        elif tok.type == tokenize.STRING:
            yield tok.start[0], tok.string
    if block:
        yield block_start, " ".join(block)


def texts() -> Iterator[tuple[str, str]]:
    """(where, text) for the comments and strings of src/ and tests/, and for the docs (not
    this file, which quotes the old citations it looks for)."""
    for top in ("src", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue
            for line, text in python_text(path):
                yield f"{path.relative_to(ROOT)}:{line}", text
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        yield str(path.relative_to(ROOT)), path.read_text()


def citations() -> list[tuple[str, str, str]]:
    """(where, cited file, heading) for every citation by heading."""
    found = []
    for where, text in texts():
        for m in CITATION.finditer(" ".join(text.split())):
            for name in NAME.findall(m.group("names")):
                found.append((where, m.group("doc"), name))
    return found


def test_behaviour_headings_are_unique() -> None:
    titles = [s.title for s in sections(BEHAVIOUR)]
    assert sorted(t for t in titles if titles.count(t) > 1) == []


def test_the_code_cites_behaviour_md_by_heading() -> None:
    src = [c for c in citations() if c[0].startswith("src/") and c[1] == "behaviour"]
    assert len(src) > 80, "the code should cite docs/behaviour.md throughout"
    assert {heading for _, _, heading in src} <= headings(BEHAVIOUR)


def test_every_cited_heading_exists() -> None:
    missing = [
        f'{where}: docs/{doc}.md has no heading "{heading}"'
        for where, doc, heading in citations()
        if not (ROOT / "docs" / f"{doc}.md").exists()
        or heading not in headings(ROOT / "docs" / f"{doc}.md")
    ]
    assert missing == []


def test_every_mention_of_behaviour_md_in_src_names_a_heading() -> None:
    bare = []
    for where, text in texts():
        flat = " ".join(text.split())
        if where.startswith("src/") and flat.count("docs/behaviour.md") > len(
            [m for m in CITATION.finditer(flat) if m.group("doc") == "behaviour"]
        ):
            bare.append(where)
    assert bare == []


def test_no_citation_of_the_numbered_reference_is_left() -> None:
    left = [
        f"{where}: {m.group(0)!r}"
        for where, text in texts()
        for pattern in OLD_CITATIONS
        for m in pattern.finditer(text)
    ]
    assert left == []


@pytest.mark.parametrize(
    "section",
    [s for s in sections(BEHAVIOUR) if s.leaf and s.title not in NOT_BEHAVIOURS],
    ids=lambda s: s.title,
)
def test_every_behaviour_names_its_aws_page(section: Section) -> None:
    body = section.body.strip()
    assert body.startswith("AWS:"), f'"{section.title}" should start with its AWS pages'
    own = re.search(r"^AWS: none\b", body, re.MULTILINE)
    assert AWS_DOCS in body or own, (
        f'"{section.title}" names no {AWS_DOCS} page and does not say `AWS: none`'
    )


def settings_fields() -> list[tuple[str, str]]:
    """(`group.field` or `field`, the bare field name) for every field of ecsim.Settings."""
    out = []
    root = Settings()
    for f in dataclasses.fields(root):
        value = getattr(root, f.name)
        if dataclasses.is_dataclass(value):
            out += [(f"{f.name}.{g.name}", g.name) for g in dataclasses.fields(value)]
        else:
            out.append((f.name, f.name))
    return out


def test_every_setting_is_indexed_and_named_in_its_section() -> None:
    by_title = {s.title: s for s in sections(BEHAVIOUR)}
    row = re.compile(r"^\| `([\w.]+)` \|[^|]*\| \"([^\"]+)\" \|$", re.MULTILINE)
    index = {m.group(1): m.group(2) for m in row.finditer(by_title["Settings index"].body)}
    problems = []
    for qualified, name in settings_fields():
        section = index.get(qualified)
        if section is None:
            problems.append(f"{qualified}: not in the settings index")
        elif section not in by_title:
            problems.append(f'{qualified}: the index points to a missing section "{section}"')
        elif qualified not in by_title[section].body and f"`{name}`" not in by_title[section].body:
            problems.append(f'{qualified}: not named in "{section}"')
    stale = set(index) - {q for q, _ in settings_fields()}
    assert problems == [] and stale == set()
