"""Which code built the report replica: a hash of every project source file the
replica's projections (and the event decoder) run, found by following their
imports, plus the library version and the team's time zone.

Why imports rather than "every file": a changed projection, domain event or
helper must rebuild the replica (its figures come from the current code), but
a changed query, page or template must not: queries run at read time anyway,
and a rebuild costs minutes at a million events.
"""

import ast
import hashlib
import importlib.metadata
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "smarketing")


def _imports(path: Path) -> set[str]:
    """Project modules ``path`` imports (``from a import b`` may name module a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] in PACKAGES}


def _source(module: str) -> Path | None:
    base = ROOT / module.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def sources(modules: Iterable[str]) -> list[Path]:
    """The files of ``modules`` and of every project module they import, transitively,
    plus every domain module (the mapper decodes any event class it finds a topic for)."""
    found: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        module = todo.pop()
        path = _source(module)
        if module in found or path is None:
            continue
        found[module] = path
        todo.extend(_imports(path))
    return sorted(set(found.values()) | set(ROOT.glob("domain/*.py")))


def code_version(modules: Iterable[str]) -> str:
    """Hash of the sources of ``modules`` (as ``sources``) and the library's version.

    Call it when the modules are imported, not later: during a deployment the
    files may change under a running process, which still runs the old code.
    """
    library = importlib.metadata.version("eventsourcing")  # decodes (and upcasts) every event
    digest = hashlib.sha256(f"{library}\n".encode())
    for path in sources(modules):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\n" + path.read_bytes())
    return digest.hexdigest()
