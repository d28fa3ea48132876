"""The example DAGs' task logic, as plain functions of params, XCom values and hooks.

``dags/`` keeps only the wiring: each ``@task`` there is a one-to-three-line call into these modules.
They belong to the Airflow layer (they call hooks), and a DAG file imports them inside its task bodies
only, so parsing a DAG never loads them (``tests/unit/operators/test_import_weight.py``).
"""
