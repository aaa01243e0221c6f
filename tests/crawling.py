"""Walking the app as a user clicks through it: breadth-first over same-site links, one page
per kind of address (a lead, a month, a page of a list stands for all of its kind)."""

import re
from collections import deque
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

# Files and actions, not pages: downloads, the language switch, signing in and out.
NOT_A_PAGE = re.compile(r"\.(csv|json|pdf|ics|js|css)(\?|$)|^/(static|logout|language|lang|login)")
KIND = re.compile(r"[0-9a-f]{32}|\d{4}-W?\d{2}(-\d{2})?(T[\d:]+)?|(after|page|q|cursor|at)=[^&]*")


def crawl(visit: Callable[[str], Iterable[str]], start: Iterable[str], max_pages: int) -> list[str]:
    """Visit pages from ``start`` on; ``visit(path)`` checks a page and returns its links.
    The paths visited, in order."""
    seen, visited, queue = set(), [], deque(start)
    while queue and len(visited) < max_pages:
        path = queue.popleft()
        kind = KIND.sub("*", path)
        if kind in seen:
            continue
        seen.add(kind)
        visited.append(path)
        for href in visit(path):
            parts = urlsplit(href)
            if not parts.netloc and parts.path.startswith("/") and not NOT_A_PAGE.search(parts.path):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return visited
