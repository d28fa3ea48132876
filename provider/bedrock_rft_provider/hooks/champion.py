"""BedrockRFTChampionHook: the champion of each model family in SSM Parameter Store, with its history."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airflow.providers.amazon.aws.hooks.ssm import SsmHook
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_rft_provider.evaluation.champion import (
    PARAMETER_PREFIX,
    ChampionVersion,
    champion_as_of,
    earlier_promotion,
    encode_record,
    named_model,
    parameter_name,
)


class BedrockRFTChampionHook(SsmHook):
    """Promote, look up (now or at any past time) and roll back champions.

    Every promotion overwrites ``/bedrock-rft/champion/<family>``, so SSM keeps each earlier champion as
    a parameter version (SSM keeps the last 100 versions). A rollback writes an old version's value as
    a new version: the history stays append-only and "who was champion at T" stays answerable.
    """

    def __init__(self, *args: Any, parameter_prefix: str = PARAMETER_PREFIX, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parameter_prefix = parameter_prefix

    def parameter(self, family: str) -> str:
        return parameter_name(family, self.parameter_prefix)

    def history(self, family: str) -> list[ChampionVersion]:
        """Every stored version, oldest first; empty when the family has no champion yet."""
        client = self.conn
        versions: list[ChampionVersion] = []
        try:
            for page in client.get_paginator("get_parameter_history").paginate(Name=self.parameter(family)):
                versions.extend(
                    ChampionVersion(int(p["Version"]), p["LastModifiedDate"], json.loads(p["Value"]))
                    for p in page.get("Parameters", [])
                )
        except client.exceptions.ParameterNotFound:
            return []
        return sorted(versions, key=lambda v: v.version)

    def current(self, family: str) -> ChampionVersion | None:
        """The champion now, or None."""
        client = self.conn
        try:
            param = client.get_parameter(Name=self.parameter(family))["Parameter"]
        except client.exceptions.ParameterNotFound:
            return None
        return ChampionVersion(int(param["Version"]), param["LastModifiedDate"], json.loads(param["Value"]))

    def serves_champion(self, family: str, deployment_arn: str) -> bool:
        """Whether ``deployment_arn`` is the current champion's deployment (champions stay deployed)."""
        champion = self.current(family)
        return bool(champion and deployment_arn and champion.record.get("deployment_arn") == deployment_arn)

    def champion_at(self, family: str, when: datetime) -> ChampionVersion | None:
        """Who was champion at ``when`` (naive datetimes are UTC); None before the first promotion."""
        return champion_as_of(self.history(family), when)

    def promote(self, family: str, record: dict[str, Any]) -> ChampionVersion:
        """Make ``record`` the champion; a retry of the same promotion returns its earlier version.

        The retry check reads the whole history: if this run already promoted and a newer run promoted
        since, the retry adds nothing (the newer champion stays champion).
        """
        earlier = earlier_promotion(self.history(family), record)
        if earlier is not None:
            current = self.current(family)
            self.log.info(
                "%s was already promoted to champion of %s by this run (version %d); current champion is "
                "version %d, left unchanged",
                named_model(record),
                family,
                earlier.version,
                current.version if current is not None else earlier.version,
            )
            return earlier
        return self.put(family, record)

    def rollback(self, family: str, version: int) -> ChampionVersion:
        """Re-point the champion to the record of ``version`` (written as a new version)."""
        history = {v.version: v for v in self.history(family)}
        if version not in history:
            raise ValueError(f"{self.parameter(family)} has no version {version}; it has {sorted(history)}")
        record = dict(history[version].record, rollback_of_version=version)
        return self.put(family, record)

    def put(self, family: str, record: dict[str, Any]) -> ChampionVersion:
        """Write ``record`` as the champion's next version (no retry check: callers do that).

        The version is read back for SSM's timestamp; when only that read fails, the write stands and
        ``since`` is this host's clock (logged as a warning).
        """
        value, _tier = encode_record(record)
        name = self.parameter(family)
        # Intelligent-Tiering: Standard while the value fits, Advanced only when needed (no downgrade error).
        response = self.conn.put_parameter(
            Name=name, Value=value, Type="String", Overwrite=True, Tier="Intelligent-Tiering"
        )
        try:
            param = self.conn.get_parameter(Name=f"{name}:{response['Version']}")["Parameter"]
            stored = ChampionVersion(
                int(param["Version"]), param["LastModifiedDate"], json.loads(param["Value"])
            )
        except (BotoCoreError, ClientError) as exc:
            # The write is done (SSM gave its version): failing here would call the record stale and a
            # retry would find it anyway. Only SSM's timestamp is missing; this host's clock stands in.
            self.log.warning(
                "wrote %s version %s but reading it back failed (%s); the write stands",
                name,
                response["Version"],
                " ".join(str(exc).split()),
            )
            stored = ChampionVersion(int(response["Version"]), datetime.now(timezone.utc), json.loads(value))
        self.log.info(
            "champion of %s is now %s (version %d)",
            family,
            named_model(record),
            stored.version,
        )
        return stored
