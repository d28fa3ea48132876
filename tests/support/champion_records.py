"""The ``make_record`` callable ``ChampionServing.promote`` takes, for tests that promote directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from bedrock_rft_provider.evaluation.champion import build_record


def record_maker(family: str, model_arn: str, run_id: str) -> Callable[[str | None], dict[str, Any]]:
    """A champion record of ``model_arn`` promoted now by ``run_id``, for whichever deployment it gets."""

    def make(deployment_arn: str | None) -> dict[str, Any]:
        return build_record(
            family=family,
            custom_model_arn=model_arn,
            deployment_arn=deployment_arn,
            run_id=run_id,
            promoted_at=datetime.now(timezone.utc),
        )

    return make
