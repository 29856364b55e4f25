"""Prefect 3 flows: compose tasks, nothing else."""
