"""Defaults that operator constructors read, apart from the modules (and dataclasses) that apply them.

An operator module imported while a DAG file is parsed needs its defaults, not ``checkpoints`` or
``grader_change``; both import their defaults from here.
"""

from __future__ import annotations

# The checkpoint metric to maximise (``checkpoints.best_checkpoint``).
DEFAULT_CHECKPOINT_METRIC = "val_score_rewards_mean"
# The grader-change guard (``grader_change.compare``): share of stored answers allowed to change score,
# and the score difference that counts as a change.
DEFAULT_MAX_CHANGED_SHARE = 0.02
DEFAULT_SCORE_TOLERANCE = 1e-6
