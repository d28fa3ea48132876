"""OpenLineage facets for the RFT loop, built from what the operators already return (pure).

The chain a lineage backend sees: dataset files (sha256) -> grader Lambda (version, code sha256) ->
RFT job -> custom model -> deployment -> evaluation summary -> champion record. Each link is a dataset
that one task writes and the next one reads, named the same way on both sides:

- S3 objects: namespace ``s3://<bucket>``, name ``<key>`` (OpenLineage's naming spec); local files:
  namespace ``file``, name the absolute path.
- AWS resources by ARN: namespace ``arn:<partition>:<service>:<region>:<account>``, name the resource
  part (``function:<name>`` for a grader: unqualified, so a new version is a new version of the same
  dataset; its version and code hash are in the ``bedrockRftGrader`` facet).
- The champion record: namespace ``ssm://<region>``, name the SSM parameter
  (``/bedrock-rft/champion/<family>``).

Nothing here imports ``openlineage`` or ``airflow``; ``to_operator_lineage`` imports them when called
and returns None (with one log line) when the apache-airflow-providers-openlineage package is absent.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

FACET_PREFIX = "bedrockRft"
PRODUCER = "https://github.com/airflow-provider-bedrock-rft"
NOT_INSTALLED = (
    "OpenLineage lineage is off: apache-airflow-providers-openlineage is not installed "
    "(pip install 'airflow-provider-bedrock-rft[lineage]')"
)
_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<rest>.+)$"
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SUMMARY_KEYS = ("model_id", "n", "mean_reward", "accuracy", "ci95", "delta", "delta_ci95", "p_value")


@dataclass(frozen=True)
class LineageDataset:
    """One OpenLineage dataset: ``facets`` maps a facet name to its JSON fields."""

    namespace: str
    name: str
    facets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskLineage:
    """What one task read and wrote, and facts about its run (``run_facets``: name -> fields)."""

    inputs: tuple[LineageDataset, ...] = ()
    outputs: tuple[LineageDataset, ...] = ()
    run_facets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def dataset_for(location: str, facets: Mapping[str, Mapping[str, Any]] | None = None) -> LineageDataset:
    """The dataset named by an ``s3://`` URI, an ARN or a local path (see the module docstring); any
    other URL is ``scheme://host[:port]`` + its path, without credentials or query."""
    facets = dict(facets or {})
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://") :].partition("/")
        return LineageDataset(f"s3://{bucket}", key, facets)
    if _URL.match(location):  # no user, password or query (a presigned URL's signature) in an event
        url = urlsplit(location)
        try:
            port = f":{url.port}" if url.port else ""
        except ValueError:  # not a port number: leave it out
            port = ""
        return LineageDataset(f"{url.scheme}://{url.hostname or ''}{port}", url.path or "/", facets)
    match = _ARN.match(location)
    if match:
        parts = match.groupdict()
        namespace = f"arn:{parts['partition']}:{parts['service']}:{parts['region']}:{parts['account']}"
        return LineageDataset(namespace, parts["rest"], facets)
    return LineageDataset("file", os.path.abspath(location), facets)


def grader_dataset(
    lambda_arn: str, *, version: str | None = None, code_sha256: str | None = None
) -> LineageDataset:
    """The grader Lambda as a dataset named by its unqualified function ARN; the qualifier (a version
    or alias) and the code hash go into the ``bedrockRftGrader`` facet."""
    parts = lambda_arn.split(":")
    function_arn = ":".join(parts[:7])  # arn:aws:lambda:<region>:<account>:function:<name>
    qualifier = parts[7] if len(parts) > 7 else None
    fields = _clean({"lambda_arn": lambda_arn, "version": version or qualifier, "code_sha256": code_sha256})
    return dataset_for(function_arn, {_facet("Grader"): fields})


def dataset_task(result: Mapping[str, Any], files: Mapping[str, Mapping[str, Any]]) -> TaskLineage:
    """``BedrockRFTDatasetOperator``: the split files it wrote, each with its own sha256 and record count
    (``files`` is ``report.json``'s ``files``: file name -> ``{records, sha256}``) and the dataset's."""
    outputs = []
    for split in ("train", "validation", "test"):
        uri = result.get(f"{split}_uri")
        if uri:
            about = files.get(str(uri).rsplit("/", 1)[-1]) or {}
            fields = {
                "split": split,
                "sha256": about.get("sha256"),
                "records": about.get("records"),
                "dataset_sha256": result.get("sha256"),
            }
            outputs.append(dataset_for(str(uri), {_facet("DatasetFile"): _clean(fields)}))
    return TaskLineage(outputs=tuple(outputs))


def reward_task(result: Mapping[str, Any]) -> TaskLineage:
    """``BedrockRewardFunctionOperator``: the grader version it published."""
    grader = grader_dataset(
        str(result.get("alias_arn") or result["function_arn"]),
        version=_str(result.get("version")),
        code_sha256=_str(result.get("code_sha256")),
    )
    return TaskLineage(outputs=(grader,))


def job_task(
    result: Mapping[str, Any],
    *,
    training_data_uri: str,
    validation_data_uris: Iterable[str] = (),
    grader: LineageDataset | None = None,
    base_model_id: str | None = None,
) -> TaskLineage:
    """``BedrockRFTJobOperator``: data files + grader -> the custom model; the job is a run facet."""
    inputs = [dataset_for(training_data_uri), *(dataset_for(uri) for uri in validation_data_uris)]
    if grader is not None:
        inputs.append(grader)
    job = _clean(
        {
            "job_arn": result.get("job_arn"),
            "job_name": result.get("job_name"),
            "status": result.get("status"),
            "base_model_id": base_model_id,
            "training_key": result.get("training_key"),
            "reused": result.get("reused"),
        }
    )
    model = result.get("custom_model_arn")
    outputs = (dataset_for(str(model), {_facet("CustomModel"): job}),) if model else ()
    return TaskLineage(inputs=tuple(inputs), outputs=outputs, run_facets={_facet("Job"): job})


def deployment_task(model_arn: str, deployment_arn: str) -> TaskLineage:
    """``BedrockCustomModelDeploymentOperator``: the custom model -> its on-demand deployment."""
    facets = {_facet("Deployment"): {"model_arn": model_arn, "deployment_arn": deployment_arn}}
    return TaskLineage(inputs=(dataset_for(model_arn),), outputs=(dataset_for(deployment_arn, facets),))


def evaluation_task(summary: Mapping[str, Any], *, dataset_uri: str, output_uri: str) -> TaskLineage:
    """``BedrockRFTEvaluationOperator``: model under test + test file -> ``summary.json``."""
    inputs = [dataset_for(dataset_uri)]
    model = summary.get("model_id")
    if isinstance(model, str) and model:
        inputs.append(dataset_for(model))
    fields = _clean({key: summary.get(key) for key in _SUMMARY_KEYS})
    target = dataset_for(summary_uri(output_uri), {_facet("Evaluation"): fields})
    return TaskLineage(inputs=tuple(inputs), outputs=(target,))


def champion_task(
    result: Mapping[str, Any], *, eval_summary_uri: str | None, region: str | None
) -> TaskLineage:
    """``BedrockRFTPromoteOperator``: everything the champion record names -> the record itself."""
    record = result.get("record") or {}
    inputs: list[LineageDataset] = []
    for key in ("custom_model_arn", "deployment_arn"):
        if record.get(key):
            inputs.append(dataset_for(str(record[key])))
    if record.get("backend") == "open-weight" and record.get("model_id"):
        inputs.append(dataset_for(str(record["model_id"])))
    for uri in (record.get("dataset_uris") or {}).values():
        inputs.append(dataset_for(str(uri)))
    grader = record.get("grader") or {}
    if grader.get("lambda_arn"):
        inputs.append(grader_dataset(str(grader["lambda_arn"]), code_sha256=_str(grader.get("code_sha256"))))
    if eval_summary_uri:
        inputs.append(dataset_for(summary_uri(eval_summary_uri)))
    fields = _clean(
        {
            "family": record.get("family"),
            "parameter": result.get("parameter"),
            "version": result.get("version"),
            "custom_model_arn": record.get("custom_model_arn"),
            "model_id": record.get("model_id"),
            "deployment_arn": record.get("deployment_arn"),
            "job_arn": record.get("job_arn"),
            "dataset_sha256": record.get("dataset_sha256"),
            "grader": grader or None,
            "promoted_at": record.get("promoted_at"),
        }
    )
    target = LineageDataset(
        f"ssm://{region or 'default'}", str(result.get("parameter")), {_facet("Champion"): fields}
    )
    return TaskLineage(inputs=tuple(_unique(inputs)), outputs=(target,))


def summary_uri(location: str) -> str:
    """``summary.json`` under an evaluation's output location (or the location itself when it is one)."""
    return location if location.endswith(".json") else location.rstrip("/") + "/summary.json"


def to_operator_lineage(lineage: TaskLineage | None, log: logging.Logger | Any) -> Any:
    """An ``OperatorLineage`` for the OpenLineage provider's listener; None when there is nothing to
    report or the provider is not installed (logged once per call, as ``NOT_INSTALLED``)."""
    if lineage is None:
        return None
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset
        from openlineage.client.facet_v2 import DatasetFacet, RunFacet
    except ImportError:
        log.info("%s", NOT_INSTALLED)
        return None

    def facets(spec: Mapping[str, Mapping[str, Any]], base: type) -> dict[str, Any]:
        return {name: _facet_object(name, fields, base) for name, fields in spec.items()}

    def dataset(item: LineageDataset) -> Any:
        return Dataset(namespace=item.namespace, name=item.name, facets=facets(item.facets, DatasetFacet))

    return OperatorLineage(
        inputs=[dataset(item) for item in lineage.inputs],
        outputs=[dataset(item) for item in lineage.outputs],
        run_facets=facets(lineage.run_facets, RunFacet),
    )


_FACET_CLASSES: dict[tuple[str, tuple[str, ...], type], type] = {}


def _facet_object(name: str, fields: Mapping[str, Any], base: type) -> Any:
    """An instance of an attrs facet class named after ``name`` with ``fields`` as its attributes
    (OpenLineage serialises facets with attrs; one class per facet name and field set, cached)."""
    import attr

    key = (name, tuple(sorted(fields)), base)
    cls = _FACET_CLASSES.get(key)
    if cls is None:
        attributes = {field_name: attr.field(default=None) for field_name in key[1]}
        cls = attr.make_class(name[0].upper() + name[1:] + "Facet", attributes, bases=(base,))
        _FACET_CLASSES[key] = cls
    return cls(**fields, producer=PRODUCER)


def _facet(kind: str) -> str:
    return f"{FACET_PREFIX}{kind}"


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _unique(items: Iterable[LineageDataset]) -> list[LineageDataset]:
    seen: dict[tuple[str, str], LineageDataset] = {}
    for item in items:
        seen.setdefault((item.namespace, item.name), item)
    return list(seen.values())
