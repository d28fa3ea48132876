"""Renamed operator parameters: the old names keep working for one release, mapped onto the new ones.

An old name is accepted (also from ``default_args`` and ``.partial()``, since it stays in the
signature Airflow inspects), translated, and warned about with the amazon provider's
``AirflowProviderDeprecationWarning`` naming the replacement. Passing an old name together with its
replacement is ambiguous and a ConfigError at DAG parse time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar, cast

# Not ``import warnings``: Airflow rewrites a module-level ``warnings`` of a decorated ``__init__``'s module
# to shift every stacklevel, which would point the warning past the DAG line.
from warnings import warn

from airflow.exceptions import AirflowProviderDeprecationWarning

from bedrock_rft_provider.errors import ConfigError

Init = TypeVar("Init", bound=Callable[..., None])


# A NamedTuple, not a frozen dataclass: the class is created whenever a DAG file using it is
# parsed, and costs a sixth of a frozen dataclass's (no exec'd methods).
class Renamed(NamedTuple):
    """``old`` is now ``new``; ``convert(value, kwargs)`` gives the new keyword arguments (default
    ``{new: value}``), reading the call's other arguments from ``kwargs`` when the meaning changed."""

    old: str
    new: str
    convert: Callable[[Any, Mapping[str, Any]], dict[str, Any]] | None = None


def renamed_parameters(*renames: Renamed) -> Callable[[Init], Init]:
    """Decorate an operator's ``__init__`` so the ``old`` names of ``renames`` map onto the new ones.

    Renames apply in the order given, each seeing what earlier ones produced. ``None`` for an old
    name means "not passed".
    """

    def decorate(init: Init) -> Init:
        signature = inspect.signature(init)

        @functools.wraps(init)
        def wrapper(self: Any, **kwargs: Any) -> None:
            given = {name for name, value in kwargs.items() if value is not None}
            for rename in renames:
                value = kwargs.pop(rename.old, None)
                if value is None:
                    continue
                if rename.new in given:
                    raise ConfigError(
                        rename.old,
                        f"deprecated name of {rename.new}, which is also given; pass only {rename.new}",
                    )
                warn(
                    f"{type(self).__name__}: parameter `{rename.old}` is deprecated and will be removed in "
                    f"the next release; use `{rename.new}` instead",
                    AirflowProviderDeprecationWarning,
                    stacklevel=3,  # this wrapper, Airflow's apply_defaults, then the DAG line
                )
                kwargs.update(rename.convert(value, kwargs) if rename.convert else {rename.new: value})
            init(self, **kwargs)

        params = list(signature.parameters.values())
        tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
        old = [inspect.Parameter(r.old, inspect.Parameter.KEYWORD_ONLY, default=None) for r in renames]
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in params if p not in tail] + old + tail
        )
        wrapper.deprecated_parameters = {r.old: r.new for r in renames}  # type: ignore[attr-defined]
        return cast("Init", wrapper)

    return decorate


def deprecated_parameters(cls: type) -> dict[str, str]:
    """``{old: new}`` of the parameters ``cls.__init__`` still accepts under an old name."""
    return dict(getattr(getattr(cls, "__init__", None), "deprecated_parameters", {}))
