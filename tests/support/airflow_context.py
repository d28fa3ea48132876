"""A minimal task context for calling ``operator.execute`` directly in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeTaskInstance:
    """Just what our operators read from ``context["ti"]``: identity, try number and XCom pushes."""

    dag_id: str = "rft_dag"
    run_id: str = "manual__2026-11-25T10:00:00+00:00"
    task_id: str = "train"
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def make_context(**ti_fields: Any) -> dict[str, Any]:
    """A context dict holding a FakeTaskInstance built from ``ti_fields``."""
    return {"ti": FakeTaskInstance(**ti_fields)}
