"""Where the top-level resource folders are: beside `src/` in a checkout or an editable
install, inside the package (`_resources/`) in a built wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent.parent


def resource_dir(name: str) -> Path:
    """The folder `name` (`migrations`, `frontend_static`, `scoring_rules`)."""
    for candidate in (_PACKAGE_DIR / "_resources" / name, _CHECKOUT_DIR / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"resource folder {name!r} is missing from this installation")
