"""What `kfvs render` produces and `kfvs lint` reads: the cluster's objects, where each comes from, and the graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RenderedObject:
    manifest: dict[str, Any]  # the Kubernetes object as the provider would apply it (apiVersion, kind, metadata, ...)
    source: str  # URN of the plan resource it comes from: the kustomize.v2.Directory (or helm Chart)
    # that renders it, or the plan's own Kubernetes resource itself
    component: str  # short name for people: the nearest kubeflow-vsphere component's name, or the source's
    cluster: str = ""  # the workload cluster (provider) it is applied to; "" for the Supervisor
    urn: str = ""  # the URN the engine gives the object: the provider's name for a rendered one, else `source`


@dataclass(frozen=True)
class NotRendered:
    source: str  # URN of the chart/directory
    type: str  # its Pulumi type token
    reason: str  # one line: why it could not be rendered faithfully


@dataclass
class Rendering:
    stack: str
    objects: list[RenderedObject] = field(default_factory=list)
    not_rendered: list[NotRendered] = field(default_factory=list)
    depends_on: dict[str, frozenset[str]] = field(default_factory=dict)
    # URN -> URNs of plan resources it waits for, as the engine orders them: its own dependencies, with a dependency on
    # a ComponentResource expanded to every descendant of that component. Objects of one source share its entry.
    # (As built: a local component stands for its custom and remote descendants, a Directory or Chart stays whole;
    # plus the resource's provider and what every ancestor waits for. Not transitive: see rendering._Graph.)
    kubernetes_version: str = ""  # minor version of the target cluster, e.g. "1.31", from the stack's TKR
    notes: list[str] = field(default_factory=list)  # one line each: what the render could not settle exactly
    chart_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (added for lint) URN of each helm Chart of the plan -> its plan inputs as recorded (chart, version, name,
    # namespace, repositoryOpts, values), rendered or not: lint reads istiod's values (CNI, meshConfig) and the
    # release names and namespaces of charts it cannot see into.
