"""What every Kubeflow component shares: its provider, its prerequisites, and how it installs artifacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from components.catalog import HelmChart, Kustomization


@dataclass(frozen=True)
class ComponentArgs:
    """The workload cluster's provider, the components this one waits for, and labels for what it makes."""

    provider: pulumi.ProviderResource
    depends_on: Sequence[pulumi.Resource] = ()
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    enabled: Sequence[str] = ()
    """Every component of the installation, for those that adapt to their neighbours (MLRun CE)."""


def pss_labels(level: str) -> dict[str, str]:
    """Pod Security Standards labels: enforce, audit and warn at one level."""
    return {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}


class KubeflowComponent(pulumi.ComponentResource):
    """Base of every component; the type token is `kubeflow-vsphere:kubeflow:<kind>`."""

    kind: ClassVar[str]
    kustomizations: ClassVar[tuple[Kustomization, ...]] = ()

    def __init__(self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"kubeflow-vsphere:kubeflow:{self.kind}", name, None, opts)
        self.args = args
        self.artifacts: list[str] = []
        for k in self.kustomizations:
            self.kustomize(f"{name}-{k.path.replace('/', '-')}", k)
        self.build(name)
        self.register_outputs({"artifacts": self.artifacts})

    def build(self, name: str) -> None:
        """Components with more than kustomize directories add their resources here."""

    def opts(self, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        """Children use the cluster's provider and wait for the prerequisites (and `after`)."""
        return pulumi.ResourceOptions(
            parent=self, provider=self.args.provider, depends_on=[*self.args.depends_on, *after]
        )

    def kustomize(self, name: str, k: Kustomization, *after: pulumi.Resource) -> k8s.kustomize.v2.Directory:
        self.artifacts.append(k.url)
        return k8s.kustomize.v2.Directory(name, directory=k.url, namespace=k.namespace, opts=self.opts(*after))

    def chart(
        self,
        name: str,
        chart: HelmChart,
        namespace: str,
        values: Mapping[str, Any],
        *after: pulumi.Resource,
        release: str | None = None,
    ) -> k8s.helm.v4.Chart:
        """A pinned chart, released as `release` (default: the chart's name). helm.v4 would otherwise use the
        resource name (`<stack>-...-chart`), and every object name derived from it would miss what refers to it."""
        self.artifacts.append(f"{chart.repository}/{chart.name}@{chart.version}")
        oci = chart.repository.startswith("oci://")
        return k8s.helm.v4.Chart(
            name,
            name=release or chart.name,
            chart=chart.ref,
            version=chart.version,
            repository_opts=None if oci else k8s.helm.v4.RepositoryOptsArgs(repo=chart.repository),
            namespace=namespace,
            values=dict(values),
            opts=self.opts(*after),
        )

    def namespace(
        self, name: str, namespace: str, level: str, extra: Mapping[str, str] | None = None
    ) -> k8s.core.v1.Namespace:
        """A namespace the platform owns, labelled with its Pod Security Standard."""
        return k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=namespace, labels={**self.args.labels, **pss_labels(level), **(extra or {})}
            ),
            opts=self.opts(),
        )

    def custom(
        self,
        name: str,
        obj: tuple[str, str, str, str | None],
        spec: Mapping[str, Any],
        *after: pulumi.Resource,
    ) -> k8s.apiextensions.CustomResource:
        """A custom object (Istio, cert-manager); `obj` is (apiVersion, kind, object name, namespace)."""
        api_version, kind, object_name, namespace = obj
        return k8s.apiextensions.CustomResource(
            name,
            api_version=api_version,
            kind=kind,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace, labels=dict(self.args.labels)),
            spec=dict(spec),
            opts=self.opts(*after),
        )
