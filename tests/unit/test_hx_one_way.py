"""Page or fragment is decided one way: only smarketing/web/core/hx.py reads htmx's request
headers. A view asks ``wants_fragment``/``page_or_fragment`` with its templates'
targets, or ``is_htmx`` where every htmx request gets the same answer; a module
reading HX-Request itself would answer a boosted link with a fragment again.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HX_MODULE = ROOT / "smarketing" / "web" / "core" / "hx.py"
# htmx's request headers that tell a page from a fragment, by hx.py's constants (or the
# WSGI environ's HTTP_HX_...) or quoted by name in any case (Werkzeug's headers ignore it).
READS_HTMX = re.compile(r"HX_(REQUEST|TARGET|BOOSTED)\b|[\"'](?i:hx-(request|target|boosted))[\"']")


def _python_files() -> list[Path]:
    return sorted(p for p in (ROOT / "smarketing").rglob("*.py") if p != HX_MODULE)


def test_the_rule_itself_is_found() -> None:
    # Guards the guard: the pattern finds hx.py's own reading of the header.
    assert READS_HTMX.search(HX_MODULE.read_text(encoding="utf-8"))
    assert len(_python_files()) > 20


def test_no_module_but_hx_reads_htmx_request_headers() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _python_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if READS_HTMX.search(line)
    ]
    assert not readers, "ask smarketing.web.core.hx (wants_fragment, is_htmx) instead:\n" + "\n".join(readers)


def test_no_template_reads_htmx_request_headers() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if re.search(r"request\.headers", path.read_text(encoding="utf-8"))
    ]
    assert not readers, readers
