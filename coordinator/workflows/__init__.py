"""DAG workflows: tasks with dependencies, run as workunits."""
