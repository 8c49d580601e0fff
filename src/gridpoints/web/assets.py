"""What the pages are made of, read once at start-up from `frontend_static/`: each page's
module graph (for `<link rel="modulepreload">` and the tests that keep those lists complete),
the files the service worker keeps for use without signal, and the worker itself.

The worker (`/sw.js`) is `frontend_static/sw.js` with one line put in front of it: the cache
version, a hash of every static file's name and content, and the files to keep. Any change to
any static file changes the script's bytes, so browsers install the new worker, which fills a
new cache and drops the old one. No list is kept by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The pages that must open without signal: sign-in, 我的, check-in and 我的记录.
OFFLINE_PAGES = ("index.html", "me.html", "checkin.html", "record.html")
WORKER_SOURCE = "sw.js"

# `import ... from "./x.js"`, `export ... from "./x.js"` and `import "./x.js"`: the static
# imports (relative ones; the pages import nothing else).
_IMPORT = re.compile(
    r"""(?:^|[;\s])(?:import|export)\b[^"';]*?\bfrom\s*["'](\.{1,2}/[^"']+)["']"""
    r"""|(?:^|[;\s])import\s*["'](\.{1,2}/[^"']+)["']""",
    re.MULTILINE,
)
# `import("./x.js")`: a module fetched only when the page needs it (the check-in page loads its
# working part only for a member who is signed in). Not preloaded, but kept for use offline.
_DYNAMIC_IMPORT = re.compile(r"""\bimport\s*\(\s*["'](\.{1,2}/[^"']+)["']\s*\)""")
_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\])//[^\n]*", re.DOTALL)
_MODULE_SCRIPT = re.compile(
    r"""<script\b(?=[^>]*\btype=["']module["'])[^>]*\bsrc=["']([^"']+)["']""", re.IGNORECASE
)
_STYLESHEET = re.compile(
    r"""<link\b(?=[^>]*\brel=["']stylesheet["'])[^>]*\bhref=["']([^"']+)["']""", re.IGNORECASE
)
_MODULEPRELOAD = re.compile(
    r"""<link\b(?=[^>]*\brel=["']modulepreload["'])[^>]*\bhref=["']([^"']+)["']""",
    re.IGNORECASE,
)


def _relative(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _resolve(root: Path, base: str, reference: str) -> str:
    """`reference` (relative, as written in `base`) as a path from `root`."""
    parent = (root / base).parent
    return _relative(root, parent / reference.split("?")[0].split("#")[0])


def imports_of(root: Path, module: str, *, dynamic: bool = False) -> list[str]:
    """The modules `module` imports statically (and with `dynamic`, by `import()` too), as
    paths from `root`, in source order."""
    source = _COMMENT.sub("", (root / module).read_text(encoding="utf-8"))
    references = [m.group(1) or m.group(2) for m in _IMPORT.finditer(source)]
    if dynamic:
        references += [m.group(1) for m in _DYNAMIC_IMPORT.finditer(source)]
    found: list[str] = []
    for reference in references:
        path = _resolve(root, module, reference)
        if path not in found:
            found.append(path)
    return found


def module_graph(root: Path, entries: Iterable[str], *, dynamic: bool = False) -> list[str]:
    """Every module reachable from `entries` (themselves included), entries first; with
    `dynamic`, through `import()` as well."""
    seen: list[str] = []
    pending = list(entries)
    while pending:
        module = pending.pop(0)
        if module in seen:
            continue
        seen.append(module)
        pending.extend(imports_of(root, module, dynamic=dynamic))
    return seen


@dataclass(frozen=True)
class Page:
    name: str
    # The module scripts the page names in its head, as paths from the static root.
    entries: tuple[str, ...]
    # What those import, at any depth (the entries excluded).
    dependencies: tuple[str, ...]
    # What they fetch only when needed (`import()`), and what that imports in turn.
    loaded_later: tuple[str, ...]
    stylesheets: tuple[str, ...]
    # The `<link rel="modulepreload">` the page carries.
    preloaded: tuple[str, ...]


def read_page(root: Path, name: str) -> Page:
    html = (root / name).read_text(encoding="utf-8")
    entries = tuple(_resolve(root, name, src) for src in _MODULE_SCRIPT.findall(html))
    graph = module_graph(root, entries)
    reachable = module_graph(root, entries, dynamic=True)
    return Page(
        name=name,
        entries=entries,
        dependencies=tuple(module for module in graph if module not in entries),
        loaded_later=tuple(module for module in reachable if module not in graph),
        stylesheets=tuple(_resolve(root, name, href) for href in _STYLESHEET.findall(html)),
        preloaded=tuple(_resolve(root, name, href) for href in _MODULEPRELOAD.findall(html)),
    )


def pages(root: Path) -> list[Page]:
    return [read_page(root, path.name) for path in sorted(root.glob("*.html"))]


def offline_files(root: Path) -> list[str]:
    """What the worker keeps from its install on: the offline pages, their styles and every
    module they load."""
    files: list[str] = []
    for name in OFFLINE_PAGES:
        page = read_page(root, name)
        modules = (*page.entries, *page.dependencies, *page.loaded_later)
        for path in (name, *page.stylesheets, *modules):
            if path not in files:
                files.append(path)
    return files


def content_version(root: Path) -> str:
    """A hash of every static file's path and bytes: it changes whenever any of them does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(_relative(root, path).encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def service_worker(root: Path) -> bytes:
    """The worker as served: its source with the version and the files to keep in front."""
    settings = {
        "version": content_version(root),
        "files": ["/" + path for path in offline_files(root)],
    }
    head = "self.GRIDPOINTS_OFFLINE = " + json.dumps(settings, separators=(",", ":")) + ";\n"
    return head.encode("utf-8") + (root / WORKER_SOURCE).read_bytes()
