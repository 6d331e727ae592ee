"""The marks the platform puts on what it makes: who owns a resource (so policies and totals can add up what each
team holds), which nodes are GPU nodes, and the Pod Security level of a namespace."""

from __future__ import annotations

from collections.abc import Mapping

TEAM_LABEL = "kubeflow-vsphere.io/team"
"""Kubernetes label on every object made for a team."""

ENVIRONMENT_LABEL = "kubeflow-vsphere.io/environment"
"""Kubernetes label naming the environment (dev, staging, prod)."""

TAG_CATEGORY_PREFIX = "kubeflow-vsphere-"


def team_tag_category(environment: str) -> str:
    """vSphere tag category whose tags name teams: one tag per team on each of its VMs.

    Scoped to the environment because tag categories are global to a vCenter and several
    stacks (dev, staging) often share one.
    """
    return f"{TAG_CATEGORY_PREFIX}{environment}-team"


def environment_tag_category(environment: str) -> str:
    """vSphere tag category holding the environment's own tag."""
    return f"{TAG_CATEGORY_PREFIX}{environment}-environment"


GPU_POOL_LABEL = "kubeflow-vsphere.io/gpu-pool"
"""Node label naming the GPU node pool a node belongs to (node selectors and PodDefaults use it)."""

TEAM_EXTRA_CONFIG = "guestinfo.kubeflow-vsphere.team"
"""VM extraConfig key naming the owning team: known at preview, unlike the IDs of tags made in the same run."""

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
"""The taint on every node of a GPU node pool: only pods that tolerate it (those asking for GPUs) land there."""


def toleration(taint: Mapping[str, str]) -> dict[str, str]:
    """The toleration of exactly this taint (`toleration(GPU_TAINT)` lets a pod onto a GPU pool's nodes): its key,
    value and effect, operator `Equal`."""
    return {"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": taint["effect"]}


def pss_labels(level: str) -> dict[str, str]:
    """Pod Security Standards labels of a namespace: enforce, audit and warn at one level."""
    return {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}
