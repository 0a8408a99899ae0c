"""Check a built HTML site: every internal link, image and anchor it names exists.

``nox -s docs`` runs this on ``docs/_build/html`` after the build; it exits 1 and lists
each broken reference (page, attribute, target) when one is missing. Standard library
only. External links (``http:``, ``https:``, ``mailto:``) are not fetched: the build
machines are offline.

    python docs/check_site.py docs/_build/html
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs whose value is a URL the page needs
_REFERENCES = {("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"),
               ("source", "src"), ("iframe", "src")}  # fmt: skip


@dataclass(frozen=True)
class BrokenReference:
    """One reference of ``page`` (a ``tag``'s ``attribute``) to a missing ``target``."""

    page: Path
    tag: str
    attribute: str
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: <{self.tag} {self.attribute}={self.target!r}>: {self.reason}"


class _PageParser(HTMLParser):
    """Collect a page's element ids and the URLs of its links and images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if (tag, name) in _REFERENCES:
                self.references.append((tag, name, value))
            elif name == "srcset":  # "a.png, b.png 2x": each candidate's first word
                for candidate in value.split(","):
                    if candidate.strip():
                        self.references.append((tag, name, candidate.split()[0]))


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def broken_references(site: Path) -> list[BrokenReference]:
    """Every internal reference of the HTML pages under ``site`` whose target is missing.

    A reference is internal when it has no scheme and no host. Its file must exist (a
    folder must hold ``index.html``), and a ``#fragment`` must be an ``id`` (or an
    ``<a name>``) of the page it points to.

    >>> import tempfile
    >>> site = Path(tempfile.mkdtemp())
    >>> _ = (site / "index.html").write_text(
    ...     '<a href="b.html#top">b</a><img src="x.png" srcset="x.png, y.png 2x">'
    ... )
    >>> _ = (site / "b.html").write_text('<h1 id="top">b</h1><a href="index.html#gone">i</a>')
    >>> for broken in broken_references(site):
    ...     print(broken.page.name, broken.target, broken.reason)
    b.html index.html#gone no element with id 'gone' in index.html
    index.html x.png no such file
    index.html x.png no such file
    index.html y.png no such file
    """
    site = site.resolve()
    pages = {page: _parse(page) for page in sorted(site.rglob("*.html"))}
    broken = []
    for page, parsed in pages.items():
        for tag, attribute, value in parsed.references:
            reason = _problem(site, page, value, pages)
            if reason is not None:
                broken.append(
                    BrokenReference(page.relative_to(site), tag, attribute, value, reason)
                )
    return broken


def _problem(site: Path, page: Path, value: str, pages: dict[Path, _PageParser]) -> str | None:
    """What is wrong with ``page``'s reference ``value``, or None (external ones too)."""
    url = urlsplit(value)
    if url.scheme or url.netloc or (not url.path and not url.fragment):
        return None
    target = (page.parent / unquote(url.path)).resolve() if url.path else page
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(site):
        return "points outside the site"
    if not target.is_file():
        return "no such file"
    if url.fragment and target.suffix == ".html":
        ids = pages[target].ids if target in pages else _parse(target).ids
        if unquote(url.fragment) not in ids:
            return f"no element with id {url.fragment!r} in {target.name}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python docs/check_site.py BUILT_HTML_FOLDER", file=sys.stderr)
        return 2
    site = Path(argv[0])
    broken = broken_references(site)
    for reference in broken:
        print(reference, file=sys.stderr)
    pages = sum(1 for _ in site.rglob("*.html"))
    if broken:
        print(f"{len(broken)} broken internal references in {pages} pages", file=sys.stderr)
        return 1
    print(f"{pages} pages: every internal link, image and anchor resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
