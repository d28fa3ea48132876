"""Task families the example DAGs and ``make demo TASK=...`` can run: one recipe per family.

A recipe is the set of DAG params that turn ``bedrock_rft_retraining`` into a run of that family
(dataset source, reward, grader name, champion family, gate guards), plus what the demo needs to
tell its story (what is real and what is simulated, the daily prompts a backfill evaluates). The
DAG itself does not change between families: a user runs a family on real AWS by passing the same
params (``airflow dags trigger bedrock_rft_retraining --conf '{...}'``), changing only the connection
and the bucket/role params.

Not to be confused with ``sandbox/families/`` — how the *simulated* model answers each family.
"""

from __future__ import annotations

from bedrock_rft_provider.task_families import code, judge, math, tools
from bedrock_rft_provider.task_families.base import TaskFamily

__all__ = ["TaskFamily", "recipe", "recipes"]


def _registry() -> dict[str, TaskFamily]:
    recipes = [math.RECIPE, code.RECIPE, judge.RECIPE, tools.RECIPE]
    return {recipe.name: recipe for recipe in recipes}


_RECIPES: dict[str, TaskFamily] = {}


def recipes() -> dict[str, TaskFamily]:
    """Every task family by name, in the order ``make demo`` lists them."""
    if not _RECIPES:
        _RECIPES.update(_registry())
    return _RECIPES


def recipe(name: str) -> TaskFamily:
    """The recipe called ``name``; ValueError naming the known ones otherwise."""
    known = recipes()
    if name not in known:
        raise ValueError(f"unknown task family {name!r}; choose one of: {', '.join(known)}")
    return known[name]
