"""Which training API a base model goes through: Bedrock's native RFT jobs or the OpenAI-compatible one.

Facts (bedrock-rft-facts §3 and §9; Bedrock user guide ``reinforcement-fine-tuning.html`` model table,
``fine-tuning-openai-apis.html``; aws-samples ``custom-models/bedrock-reinforcement-fine-tuning/``):

- Amazon Nova 2 Lite (``amazon.nova-2-lite-v1:0:256k``, us-east-1) trains through
  ``CreateModelCustomizationJob`` (the *native* backend).
- ``openai.gpt-oss-20b`` and ``qwen.qwen3-32b`` (us-west-2, user guide) and ``nvidia.nemotron-nano-3-30b``
  (us-west-2, aws-samples Nemotron notebook only) train through the OpenAI-compatible fine-tuning API at
  ``https://bedrock-mantle.<region>.api.aws/v1`` (the *open-weight* backend); the native API's grader
  union has no member for them.

A model id the catalog does not know keeps the native backend (custom-model ARNs, future Nova ids), so
existing DAGs behave as before; ``backend="open-weight"`` for an unknown id is an error, because the
open-weight API documents exactly the models listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from bedrock_rft_provider.errors import ConfigError

NATIVE = "native"
OPEN_WEIGHT = "open-weight"
BACKENDS = (NATIVE, OPEN_WEIGHT)
AUTO = "auto"


# A NamedTuple, not a frozen dataclass: the class is created whenever a DAG file using it is
# parsed, and costs a sixth of a frozen dataclass's (no exec'd methods).
class ModelInfo(NamedTuple):
    """One base model RFT can train: its backend, the regions documented for it, and the source."""

    model_id: str
    backend: str
    regions: tuple[str, ...]
    source: str


CATALOG: Mapping[str, ModelInfo] = {
    info.model_id: info
    for info in (
        ModelInfo("amazon.nova-2-lite-v1:0:256k", NATIVE, ("us-east-1",), "user guide model table"),
        ModelInfo("openai.gpt-oss-20b", OPEN_WEIGHT, ("us-west-2",), "user guide model table"),
        ModelInfo("qwen.qwen3-32b", OPEN_WEIGHT, ("us-west-2",), "user guide model table"),
        ModelInfo("nvidia.nemotron-nano-3-30b", OPEN_WEIGHT, ("us-west-2",), "aws-samples Nemotron notebook"),
    )
}
OPEN_WEIGHT_MODELS = tuple(m for m, info in CATALOG.items() if info.backend == OPEN_WEIGHT)


def choose_backend(base_model_id: str, backend: str | None = None) -> str:
    """The backend for ``base_model_id``: from the catalog, or ``backend`` when given and consistent.

    ``backend`` is ``None``/``"auto"`` (choose from the model id), ``"native"`` or ``"open-weight"``
    (``"open_weight"`` is accepted too). Raises ConfigError naming ``backend`` when the override
    contradicts the catalog, or ``base_model_id`` when the open-weight API does not train that model.
    """
    requested = normalise_backend(backend)
    known = CATALOG.get(base_model_id)
    if requested is None:
        return known.backend if known is not None else NATIVE
    if known is not None and known.backend != requested:
        raise ConfigError(
            "backend",
            f"{backend!r} cannot train {base_model_id!r}: Bedrock trains it through the "
            f"{known.backend} backend ({known.source}); omit backend or set it to {known.backend!r}",
        )
    if requested == OPEN_WEIGHT and known is None:
        raise ConfigError(
            "base_model_id",
            f"{base_model_id!r} is not a model Bedrock's open-weight fine-tuning API trains; "
            f"supported: {', '.join(OPEN_WEIGHT_MODELS)}",
        )
    return requested


def catalog_note(base_model_id: str) -> str | None:
    """A line for a forecast or plan made for a model the catalog does not know (its backend was
    assumed native, possibly a typo of a catalog id); None for a catalog model."""
    if base_model_id in CATALOG:
        return None
    return (
        f"base model {base_model_id!r} is not in the catalog ({', '.join(CATALOG)}): planned as the "
        f"{NATIVE} backend (a custom model or a newer Nova id); check the id if you meant one of those"
    )


def normalise_backend(backend: str | None) -> str | None:
    """``"native"`` / ``"open-weight"`` from any accepted spelling; None for ``None``, ``""`` and ``"auto"``.

    Raises ConfigError naming ``backend`` for a non-string or an unknown name.
    """
    if backend is None:
        return None
    if not isinstance(backend, str):
        raise ConfigError("backend", f"must be a string, got {type(backend).__name__}")
    word = backend.strip().lower().replace("_", "-")
    if word in ("", AUTO):
        return None
    if word not in BACKENDS:
        raise ConfigError("backend", f"{backend!r} is not one of {AUTO}, {', '.join(BACKENDS)}")
    return word


def region_note(base_model_id: str, region: str | None) -> str | None:
    """A warning when ``region`` is not one the model is documented in (None when it is, or unknown)."""
    known = CATALOG.get(base_model_id)
    if known is None or region is None or region in known.regions:
        return None
    return (
        f"{base_model_id} is documented for RFT in {', '.join(known.regions)} only ({known.source}); "
        f"this connection uses {region}"
    )
