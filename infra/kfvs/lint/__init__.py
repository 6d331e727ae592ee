"""`kfvs lint`: the rendered platform checked as an API server and its controllers would check it."""

from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.runner import RULES, lint

__all__ = ["RULES", "Finding", "lint"]
