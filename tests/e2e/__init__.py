"""``make e2e``: the example DAGs on the real Airflow services, driven through the REST API.

PostgreSQL (metadata), Redis (Celery broker), the CeleryExecutor with two workers, scheduler,
dag-processor, triggerer and api-server, all on 127.0.0.1 with free ports, the sandbox as AWS. Run it
with ``make e2e`` (``python -m tests.e2e --help`` for options).
"""
