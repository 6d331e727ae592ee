"""Every upstream artifact the platform installs, pinned in one place. Nothing floats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmChart:
    """An official Helm chart at an exact version."""

    name: str
    repository: str
    version: str
    app: str
    """The upstream project, as the README's table names it."""


GPU_OPERATOR = HelmChart("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v26.3.3", "NVIDIA GPU Operator")

CHARTS: tuple[HelmChart, ...] = (GPU_OPERATOR,)
"""All pinned charts, for the README table and the tests that check values against upstream."""
