"""The guides: docs/ builds with MkDocs in strict mode, a broken link fails that build, and the
README (which MkDocs does not build) points only at pages and headings that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import markdown
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
# Inline links and images: [text](target) — the target up to the first space or closing parenthesis.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def nav_pages() -> list[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    return [page for entry in config["nav"] for page in entry.values()]


def anchors(page: Path) -> set[str]:
    """The heading ids MkDocs gives a page (the same toc extension and slugify)."""
    md = markdown.Markdown(extensions=["toc", "admonition"])
    md.convert(page.read_text())

    def walk(tokens: list[dict]) -> set[str]:
        found: set[str] = set()
        for token in tokens:
            found.add(token["id"])
            found |= walk(token["children"])
        return found

    return walk(md.toc_tokens)  # type: ignore[attr-defined]


def test_the_guides_build_in_strict_mode(tmp_path):
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")

    assert result.returncode == 0, result.stderr
    for page in nav_pages():
        assert (tmp_path / "site" / page.replace(".md", ".html")).is_file(), page


def test_every_page_in_docs_is_in_the_navigation():
    assert sorted(nav_pages()) == sorted(p.name for p in DOCS.glob("*.md"))


def test_a_broken_link_or_heading_fails_the_build(tmp_path):
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    with (tmp_path / "docs" / "operator.md").open("a") as page:
        page.write("\nSee [the old guide](telephony.md) and [backups](deployment.md#backups-and-such).\n")

    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")

    assert result.returncode != 0
    assert "telephony.md" in result.stderr
    assert "#backups-and-such" in result.stderr


def test_the_readme_links_only_to_pages_and_headings_that_exist():
    targets = [t for t in LINK.findall(README.read_text()) if not t.startswith(("http://", "https://", "#"))]

    assert any(t.startswith("docs/") for t in targets)
    for target in targets:
        path, _, anchor = target.partition("#")
        assert (ROOT / path).is_file(), f"README links to a missing file: {target}"
        if anchor:
            assert anchor in anchors(ROOT / path), f"README links to a missing heading: {target}"


def test_the_readme_starts_with_the_two_commands():
    blocks = [line.strip() for line in README.read_text().splitlines() if line.startswith("    ")]

    assert blocks[:2] == ["make run", "make test"]


def test_no_page_points_at_the_design_file_a_clone_lacks():
    for page in [README, *DOCS.glob("*.md")]:
        assert "DESIGN.md" not in page.read_text(), page.name
