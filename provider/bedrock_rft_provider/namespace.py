"""The deployment namespace hashed into every derived job, model and deployment name and token.

Two Airflow installs that share an AWS account — or one install before and after its metadata
database was reset — reuse run ids (``scheduled__2026-11-02T03:00:00+00:00``), so names derived from
(dag_id, run_id, task_id) alone would make one reattach to the other's jobs. Resolution order:

1. the operator's ``namespace`` argument;
2. Airflow config ``[bedrock_rft] namespace`` (environment: ``AIRFLOW__BEDROCK_RFT__NAMESPACE``);
3. the Airflow Variable ``bedrock_rft_namespace`` in the metadata database, created on first use as
   ``af-<12 random hex digits>``. Every component of one install reads the same database, so they agree;
   another install, or a reset database, draws another value.

Set (2) explicitly in production: it survives a database reset on purpose (e.g. a migration to a new
database should still reattach to running jobs), and it avoids the first-use race in (3), where two
tasks starting at the same instant on a fresh database could draw different values (the last write
wins; both read back what was stored, so only a task that already used its value could differ).
"""

from __future__ import annotations

import logging
import secrets

from airflow.providers.common.compat.sdk import conf

from bedrock_rft_provider.jobs.naming import check_namespace

CONFIG_SECTION = "bedrock_rft"
CONFIG_KEY = "namespace"
VARIABLE_KEY = "bedrock_rft_namespace"

log = logging.getLogger(__name__)


def resolve_namespace(explicit: str | None = None) -> str:
    """The namespace for this task: ``explicit``, else the config, else the install's Variable."""
    if explicit:
        return check_namespace("namespace", explicit)
    configured = conf.get(CONFIG_SECTION, CONFIG_KEY, fallback=None)
    if configured:
        return check_namespace(f"[{CONFIG_SECTION}] {CONFIG_KEY}", configured)
    return _install_namespace()


def _install_namespace() -> str:
    from airflow.sdk import Variable

    stored = Variable.get(VARIABLE_KEY, default=None)
    if stored:
        return check_namespace(f"Variable {VARIABLE_KEY}", stored)
    drawn = f"af-{secrets.token_hex(6)}"
    Variable.set(
        VARIABLE_KEY,
        drawn,
        description="bedrock-rft deployment namespace, hashed into derived job/model/deployment names. "
        "Do not change it while jobs run: retries would no longer find them.",
    )
    stored = Variable.get(VARIABLE_KEY, default=None) or drawn
    log.info("bedrock-rft: this Airflow install's namespace is %s (Variable %s)", stored, VARIABLE_KEY)
    return check_namespace(f"Variable {VARIABLE_KEY}", stored)
