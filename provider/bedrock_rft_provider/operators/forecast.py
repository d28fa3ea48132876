"""BedrockRFTSpendForecastOperator: forecast what the RFT run will spend and refuse it over a cap."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.hooks.reward_lambda import RewardLambdaHook
from bedrock_rft_provider.templated import as_mapping, is_unset

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.hooks.storage import StorageHook
    from bedrock_rft_provider.jobs.budget import SpendCaps


def json_param(field: str, value: Any) -> dict[str, Any]:
    """A dict param that may arrive as a dict, its rendered text, or unset (``{}``)."""
    return {} if is_unset(value) or value == {} else dict(as_mapping(field, value))


def _json_object(field: str, text: str) -> dict[str, Any]:
    """The JSON object a report file holds; ConfigError naming ``field`` for anything else."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(field, f"is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ConfigError(field, f"must hold a JSON object, got {type(value).__name__}")
    return value


def caps_of(operator: Any) -> SpendCaps:
    """The operator's ``max_budget`` / ``max_training_hours`` / ``max_grader_invocations``."""
    from bedrock_rft_provider.jobs.budget import CAP_NAMES, SpendCaps

    return SpendCaps.from_params({name: getattr(operator, name) for name in CAP_NAMES})


def refuse_over_caps(operator: Any) -> None:
    """Fail (AirflowFailException, no retry) when ``operator.spend_forecast`` is over one of its caps.

    Nothing to check without caps. Caps without a forecast, or with a forecast made for other
    hyperparameters, are a ConfigError: a cap that cannot be checked must not pass silently (the wait
    enforces caps too, but only once money is being spent).
    """
    from bedrock_rft_provider.jobs.backends import choose_backend
    from bedrock_rft_provider.jobs.budget import SpendCapExceeded, check_caps
    from bedrock_rft_provider.jobs.forecast import plan_mismatch

    caps = caps_of(operator)
    if not caps.any:
        return
    forecast = json_param("spend_forecast", operator.spend_forecast)
    if not forecast:
        raise ConfigError(
            "spend_forecast",
            "is required with max_budget / max_training_hours / max_grader_invocations: pass the "
            "BedrockRFTSpendForecastOperator's result",
        )
    backend = choose_backend(operator.base_model_id, operator.backend)
    hyperparameters = operator.hyperparameters
    if hyperparameters is not None and not isinstance(hyperparameters, Mapping):
        hyperparameters = hyperparameters.to_request()  # RFTHyperParameters
    mismatch = plan_mismatch(forecast, backend, json_param("hyperparameters", hyperparameters))
    if mismatch:
        raise ConfigError("spend_forecast", f"was made for other hyperparameters: {mismatch}")
    try:
        check_caps(forecast, caps)
    except SpendCapExceeded as exc:
        raise AirflowFailException(str(exc)) from exc


class BedrockRFTSpendForecastOperator(AwsBaseOperator[RewardLambdaHook]):
    """Forecast the spend of the RFT run about to be submitted, log it, and fail (without retry) when it
    is over a cap. Reads only: nothing is written before the caps pass.

    Units always (grader invocations and graded samples, Lambda GB-seconds, evaluation tokens, training
    hours when a rate is known); money for each component ``prices`` prices. See
    ``jobs.forecast`` for the model and its stated assumptions.

    :param base_model_id: the model to tune; with ``backend`` it picks the backend's plan.
    :param backend: ``"auto"`` (default), ``"native"`` or ``"open-weight"``, as ``BedrockRFTJobOperator``.
    :param hyperparameters: the job's hyperparameters, as given to ``BedrockRFTJobOperator``.
    :param dataset_report_uri: the dataset operator's ``report.json`` (counts, prompt lengths).
    :param preflight_report_uri: the preflight operator's report file (measured grader latency).
    :param grader_function_name: the grader Lambda, for its configured memory (GB-seconds).
    :param prices: price table (``jobs.prices.PRICE_UNITS`` keys, ``currency``, ``source``); none by default.
    :param assumptions: ``jobs.forecast.ForecastAssumptions`` fields (e.g.
        ``grader_samples_per_invocation``, ``training_samples_per_hour``).
    :param champion_family: when set and no ``training_samples_per_hour`` is given, the rate is taken
        from that champion's recorded actual spend.
    :param max_budget: money cap (needs prices); None = none.
    :param max_training_hours: training-hours cap; checked when hours can be forecast.
    :param max_grader_invocations: grader-invocation cap.
    :param report_uri: where to write ``forecast.json`` (after the caps pass); not written when None.
    :return: the forecast (``SpendForecast.as_dict``) plus ``caps``, ``prices``, ``validation_records``,
        ``grader_seconds_per_sample`` and ``grader_memory_mb`` (what the actual spend is measured with).
    """

    aws_hook_class = RewardLambdaHook
    template_fields: Sequence[str] = aws_template_fields(
        "base_model_id",
        "backend",
        "hyperparameters",
        "dataset_report_uri",
        "preflight_report_uri",
        "grader_function_name",
        "prices",
        "assumptions",
        "champion_family",
        "max_budget",
        "max_training_hours",
        "max_grader_invocations",
        "report_uri",
    )
    template_fields_renderers = {"hyperparameters": "json", "prices": "json", "assumptions": "json"}
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        base_model_id: str,
        dataset_report_uri: str,
        hyperparameters: Mapping[str, Any] | str | None = None,
        preflight_report_uri: str | None = None,
        grader_function_name: str | None = None,
        prices: Mapping[str, Any] | str | None = None,
        assumptions: Mapping[str, Any] | str | None = None,
        champion_family: str | None = None,
        max_budget: float | str | None = None,
        max_training_hours: float | str | None = None,
        max_grader_invocations: int | str | None = None,
        report_uri: str | None = None,
        backend: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_model_id = base_model_id
        self.backend = backend
        self.hyperparameters = hyperparameters
        self.dataset_report_uri = dataset_report_uri
        self.preflight_report_uri = preflight_report_uri
        self.grader_function_name = grader_function_name
        self.prices = prices
        self.assumptions = assumptions
        self.champion_family = champion_family
        self.max_budget = max_budget
        self.max_training_hours = max_training_hours
        self.max_grader_invocations = max_grader_invocations
        self.report_uri = report_uri

    def _storage(self) -> StorageHook:
        from bedrock_rft_provider.hooks.storage import StorageHook

        return StorageHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.jobs.backends import catalog_note, choose_backend
        from bedrock_rft_provider.jobs.budget import SpendCapExceeded, check_caps, unchecked_caps
        from bedrock_rft_provider.jobs.forecast import ForecastAssumptions, forecast_spend
        from bedrock_rft_provider.jobs.prices import PriceTable
        from bedrock_rft_provider.jobs.spend import forecast_inputs

        caps = caps_of(self)
        prices = PriceTable.from_dict(json_param("prices", self.prices))
        assumed = json_param("assumptions", self.assumptions)
        backend = choose_backend(self.base_model_id, self.backend)
        ForecastAssumptions.from_dict(assumed)  # bad input fails before any read
        if assumed.get("training_samples_per_hour") is None and self.champion_family:
            rate = self._champion_rate(self.champion_family)
            if rate is not None:
                assumed["training_samples_per_hour"] = rate
        storage = self._storage()
        dataset_report = _json_object("dataset_report_uri", storage.read_text(self.dataset_report_uri))
        preflight = None
        if self.preflight_report_uri:
            preflight = _json_object("preflight_report_uri", storage.read_text(self.preflight_report_uri))
        memory = None
        if self.grader_function_name:
            configuration = self.hook.get_configuration(self.grader_function_name) or {}
            memory = configuration.get("MemorySize")
        inputs = forecast_inputs(
            backend=backend,
            hyperparameters=json_param("hyperparameters", self.hyperparameters),
            dataset_report=dataset_report,
            preflight_report=preflight,
            grader_memory_mb=memory,
        )
        forecast = forecast_spend(inputs, ForecastAssumptions.from_dict(assumed), prices)
        for line in forecast.lines():
            self.log.info("%s", line)
        model_note = catalog_note(self.base_model_id)
        if model_note:
            self.log.warning("%s", model_note)
        result = {
            **forecast.as_dict(),
            "caps": caps.as_dict(),
            "prices": prices.as_dict(),
            "validation_records": inputs.validation_records,
            "grader_seconds_per_sample": inputs.grader_seconds_per_sample,
            "grader_memory_mb": memory,
        }
        try:
            check_caps(result, caps)
        except SpendCapExceeded as exc:
            raise AirflowFailException(str(exc)) from exc
        if caps.any:
            for line in unchecked_caps(result, caps):
                self.log.warning("%s", line)
            self.log.info(
                "Within the checked caps: %s", {k: v for k, v in caps.as_dict().items() if v is not None}
            )
        if self.report_uri:
            storage.write_text(self.report_uri, json.dumps(result, indent=2))
        return result

    def _champion_rate(self, family: str) -> float | None:
        from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
        from bedrock_rft_provider.jobs.spend import rate_from_record

        hook = BedrockRFTChampionHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify
        )
        champion = hook.current(family)
        rate = rate_from_record(champion.record if champion else None)
        if rate is not None:
            self.log.info("Training rate from the %s champion's last run: %.0f samples/hour", family, rate)
        return rate


def measure_training_spend(
    job: Mapping[str, Any], forecast: Mapping[str, Any], *, aws_conn_id: str | None = "aws_default"
) -> dict[str, Any]:
    """The run's spend record (``jobs.spend.spend_record``) once training ended: hours from the job's
    start and end, graded samples from the training metrics, at the forecast's prices.

    ``job`` is ``BedrockRFTJobOperator``'s result, ``forecast`` the forecast operator's. The evaluation
    adds its tokens (``BedrockRFTEvaluationOperator(spend=...)``).
    """
    from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT
    from bedrock_rft_provider.jobs.prices import PriceTable
    from bedrock_rft_provider.jobs.spend import actual_spend, job_hours, spend_record

    if job.get("backend") == OPEN_WEIGHT:
        from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook

        open_weight = BedrockOpenWeightHook(aws_conn_id=aws_conn_id)
        found = open_weight.retrieve_job(str(job["job_id"]))
        hours = job_hours(found.get("created_at"), found.get("finished_at"))
        metrics = open_weight.read_training_metrics(str(job["job_id"]))
    else:
        from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

        native = BedrockRFTHook(aws_conn_id=aws_conn_id)
        described = native.describe_job(str(job["job_name"]))
        hours = job_hours(described.get("creationTime"), described.get("endTime"))
        metrics = native.read_training_metrics(described)
    actual = actual_spend(
        forecast,
        training_hours=hours,
        metrics=metrics,
        validation_records=int(forecast.get("validation_records") or 0),
        grader_seconds_per_sample=forecast.get("grader_seconds_per_sample"),
        grader_memory_mb=forecast.get("grader_memory_mb"),
        prices=PriceTable.from_dict(forecast.get("prices")),
    )
    return spend_record(forecast, actual)
