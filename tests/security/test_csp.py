"""A strict Content-Security-Policy: every page, as every role, is sent with a policy that allows scripts and
styles from the site's own files only, and carries nothing that policy would block (no inline script, no
event-handler attribute, no inline style, no javascript: URL). The crawl follows the links each role sees from
its home page, one page per URL pattern, so it covers what each person can reach with real ids."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from tests.security.conftest import Demo

# Accounts that sign in to pages (the integration accounts only call the APIs).
PEOPLE = ["admin", "drchen", "nurse", "frontdesk", "billing", "custodian", "therapist", "lena", "claire"]
# Links a crawl must not follow: signing out ends the crawl's session.
NOT_FOLLOWED = {"accounts:logout"}
MAX_PAGES_PER_PERSON = 150
# Script types the browser does not run (data blocks, such as the API docs page's settings).
DATA_BLOCK_TYPES = {"application/json", "application/ld+json"}


class InlineFinder(HTMLParser):
    """What a strict policy would block in a page, and the same-site links to follow."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src") and values.get("type") not in DATA_BLOCK_TYPES:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=...> inline style")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def _pattern(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _crawl(client: Client) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Pages seen (URL pattern -> first path) and the problems found on each path."""
    seen: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    queue: deque[str] = deque(["/"])
    while queue and len(seen) < MAX_PAGES_PER_PERSON:
        path = queue.popleft()
        pattern = _pattern(urlsplit(path).path)
        if pattern is None or pattern in seen or pattern in NOT_FOLLOWED:
            continue
        seen[pattern] = path
        response = client.get(path, follow=True)
        assert response.status_code < 500, path
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        policy = response.get("Content-Security-Policy", "")
        if "script-src 'self'" not in policy or "style-src 'self'" not in policy or "unsafe" in policy:
            problems.setdefault(path, []).append(f"policy: {policy!r}")
        finder = InlineFinder()
        finder.feed(response.content.decode())
        if finder.problems:
            problems.setdefault(path, []).extend(finder.problems)
        for href in finder.links:
            link, _fragment = urldefrag(href)
            parts = urlsplit(link)
            if (
                parts.scheme
                or parts.netloc
                or not parts.path.startswith("/")
                or parts.path.startswith("/static/")
            ):
                continue
            queue.append(link)
    return seen, problems


@pytest.mark.parametrize("username", PEOPLE)
def test_no_page_carries_what_the_strict_policy_would_block(demo: Demo, db: None, username: str) -> None:
    seen, problems = _crawl(demo.client(username))
    # The crawl reached the person's own pages, not only their home page.
    assert len(seen) >= 3, seen
    assert problems == {}


def test_the_policy_is_strict(db: None) -> None:
    """Scripts: the site's files and a per-response nonce, never inline or eval; styles: the site's files;
    no framing; forms post only here; nothing from another origin."""
    response = Client().get("/accounts/login/")
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].startswith("'self' 'nonce-")
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "http" not in response["Content-Security-Policy"]


def test_the_api_docs_page_runs_only_packaged_files(client: Client, db: None) -> None:
    """The API's documentation (Swagger UI, public) loads its scripts from the site and its settings from a
    JSON data block, so the strict policy holds there too."""
    response = client.get("/api/docs")
    assert response.status_code == 200
    finder = InlineFinder()
    finder.feed(response.content.decode())
    assert finder.problems == []
    assert "unsafe" not in response["Content-Security-Policy"]
