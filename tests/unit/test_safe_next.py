"""``next`` links: judged as the browser will read them, after its clean-up."""

import pytest

from smarketing.web.input.redirects import browser_view, safe_next

OFF_SITE = [
    "//evil.example/x",
    "https://evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example/phish",  # the tab survives a raw check; the browser drops it
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\\t\\evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "/%5C%5Cevil.example",
    "leads/",  # relative: resolved against whatever page the browser is on
    "/\x00/x",
    "",
    None,
]

SAME_SITE = {
    "/leads/": "/leads/",
    "/leads/?q=ana%20p&after=3": "/leads/?q=ana%20p&after=3",
    "/lea\tds/": "/leads/",  # what the browser would open anyway
    "/leads/%0D%0ASet-Cookie:x": "/leads/%0D%0ASet-Cookie:x",  # encoded: a path, no header
    "/a\\b": "/a/b",
}


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_and_odd_targets_are_refused(target: str | None) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize("target", list(SAME_SITE))
def test_same_site_paths_are_kept_as_the_browser_reads_them(target: str) -> None:
    assert safe_next(target) == SAME_SITE[target]


def test_browser_view_drops_tabs_and_line_breaks_and_turns_backslashes() -> None:
    assert browser_view(" \t/\\\n/evil\r.example ") == "///evil.example"
