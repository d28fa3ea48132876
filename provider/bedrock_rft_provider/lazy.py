"""Package exports resolved on first use (PEP 562), so importing one submodule imports only what it needs.

An operator module imported when a DAG file is parsed should not pay for every sibling of the core
module it uses (the data pipeline, the statistics stack, the reward runner); ``from package import Name``
and ``package.submodule`` still work as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each public name to its submodule."""

    def __getattr__(name: str) -> Any:
        submodule = exports.get(name)
        if submodule is not None:
            return getattr(importlib.import_module(f"{package}.{submodule}"), name)
        if not name.startswith("__"):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as missing:
                if missing.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
