"""The spend caps' names: DAG params and operator arguments (``budget.SpendCaps`` holds their rules).

Apart from ``budget``, so a DAG file that passes each cap through by name does not load the budget
module.
"""

from __future__ import annotations

CAP_NAMES = ("max_budget", "max_training_hours", "max_grader_invocations")
