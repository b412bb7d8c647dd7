"""The public site's shipped pages (`defaults/public_site.json`), in the editor's text format
(portal.rules.parse_page_text). A clinic edits them on the "Public site" page; these are version 1. Clinical
statements name their source (PROTOCOL.md's source list)."""

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULTS_FILE = Path(__file__).resolve().parent / "defaults" / "public_site.json"


@dataclass(frozen=True)
class DefaultPage:
    slug: str
    title: str
    summary: str
    body: str


def default_pages() -> list[DefaultPage]:
    """The shipped pages, in menu order."""
    raw = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return [
        DefaultPage(
            slug=page["slug"], title=page["title"], summary=page["summary"], body="\n".join(page["body"])
        )
        for page in raw["pages"]
    ]
