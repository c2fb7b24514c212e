"""The documentation's own health: every relative link in the README, docs/ and bench/ leads to a
file that exists (and to a heading that exists, when it names one), and the README stays short."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "bench").glob("*.md")]
)
# [text](target) and ![alt](target), outside code spans; the target ends at a space or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`[^`]*`")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _prose(path: Path) -> str:
    return CODE_SPAN.sub("", FENCE.sub("", path.read_text()))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", FENCE.sub("", path.read_text()), re.MULTILINE)
    return {_anchor(heading) for heading in headings}


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(_prose(path))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:, ...
    ]


def test_the_documents_exist_and_link_to_each_other():
    names = {str(path.relative_to(ROOT)) for path in DOCUMENTS}
    assert {"README.md", "docs/operations.md", "bench/README.md", "bench/RESULTS.md"} <= names
    readme_links = set(relative_links(ROOT / "README.md"))
    for doc in (ROOT / "docs").glob("*.md"):
        assert f"docs/{doc.name}" in readme_links, f"README.md does not link {doc.name}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_and_heading_that_exist(path):
    broken = []
    for target in relative_links(path):
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked):
            broken.append(f"{target}: no heading #{fragment} in {linked.name}")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nSee [there](missing.md), [here](#title), [not](#nowhere), "
        "`[code](skipped.md)` and [web](https://example.org/x.md).\n"
    )
    assert relative_links(page) == ["missing.md", "#title", "#nowhere"]
    assert _anchors(page) == {"title"}
    assert _anchor("Census returns and national reporting (`reporting/`)") == (
        "census-returns-and-national-reporting-reporting"
    )


def test_the_readme_stays_a_first_read():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"
