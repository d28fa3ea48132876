"""``[core] hostname_callable`` for the e2e: each Celery worker reports its own name.

Both workers run on one machine, so the default (the machine's FQDN) cannot tell them apart; the
e2e sets ``BEDROCK_RFT_E2E_HOSTNAME`` per worker and reads it back from the task instances.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("BEDROCK_RFT_E2E_HOSTNAME") or socket.getfqdn()
