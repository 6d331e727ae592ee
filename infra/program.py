"""The program: validated settings in, the platform's resources out. Same code under the engine and kfvs."""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra import paths
from infra.platform import build_platform
from infra.settings import load_from_runtime


def main(root: Path = paths.PROJECT_ROOT) -> None:
    """Read all configuration first (raising ConfigError before anything is registered), then build."""
    settings = load_from_runtime(root)
    platform = build_platform(settings)
    pulumi.export("environment", settings.environment.tier)
    pulumi.export("teams", [t.name for t in settings.teams])
    pulumi.export("platform", platform.urn)
