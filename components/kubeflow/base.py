"""What every Kubeflow component shares: its declaration, its provider, its prerequisites, and how it installs
artifacts.

A component is one class: its settings key, its prerequisites, its artifacts and its build. The settings
switches (infra/models/kubeflow.py), the dependency map (dependencies.py), the README's "needs" table and the
tests' expectations are all read from these declarations (registry.py lists them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from components.catalog import HelmChart, Kustomization
from components.charts import helm_chart
from components.kubeflow.settings import IdentitySettings, IngressSettings
from components.kubeflow.spawner import SpawnerSettings
from components.kubeflow.stores import StoreSettings
from components.labels import pss_labels


@dataclass(frozen=True, kw_only=True)
class ComponentArgs:
    """What the installation hands each component: the workload cluster's provider, what it waits for, labels for
    what it makes, and the installation's settings (each component reads the ones it needs)."""

    provider: pulumi.ProviderResource
    ingress: IngressSettings
    identity: IdentitySettings
    depends_on: Sequence[pulumi.Resource] = ()
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    enabled: Sequence[str] = ()
    """Every component of the installation, for those that adapt to their neighbours (MLRun CE)."""
    raw_serving: bool = False
    installed: Mapping[str, KubeflowComponent] = field(default_factory=dict[str, "KubeflowComponent"])
    """The components installed before this one, by key (oauth2-proxy takes Dex's client secret)."""
    notebooks: SpawnerSettings | None = None
    """The Jupyter spawner's images, GPU pools and culling (components/kubeflow/spawner.py); None: upstream's."""
    stores: StoreSettings | None = None
    """External MySQL / object stores of Pipelines, Katib, Model Registry (components/kubeflow/stores.py)."""


class KubeflowComponent(pulumi.ComponentResource):
    """Base of every component; the type token is `kubeflow-vsphere:kubeflow:<kind>`.

    The declaration, as class attributes: `key` (the settings switch, camelCase), `kind`, `summary` (what it
    installs, in a few words, for the README), `needs` (prerequisites), `waits_for_if_enabled` (components it
    uses when they are there), `not_needed_with_raw_serving`, `enabled_by_default`, `kustomizations` (applied
    before `build`) and `extra_artifacts` (what `build` installs). A component needing a setting of the
    installation reads it from its args in `build`: the base calls `build` from `__init__`."""

    key: ClassVar[str]
    kind: ClassVar[str]
    summary: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    waits_for_if_enabled: ClassVar[tuple[str, ...]] = ()
    not_needed_with_raw_serving: ClassVar[tuple[str, ...]] = ()
    enabled_by_default: ClassVar[bool] = True
    kustomizations: ClassVar[tuple[Kustomization, ...]] = ()
    extra_artifacts: ClassVar[tuple[Kustomization | HelmChart, ...]] = ()
    """What `build` installs besides `kustomizations`."""

    @classmethod
    def artifacts_declared(cls) -> tuple[Kustomization | HelmChart, ...]:
        """Every pinned artifact the component installs, in the order it installs them."""
        return (*cls.kustomizations, *cls.extra_artifacts)

    def __init__(self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"kubeflow-vsphere:kubeflow:{self.kind}", name, None, opts)
        self.args = args
        self.artifacts: list[str] = []
        for k in self.installed_kustomizations():
            self.kustomize(f"{name}-{k.path.replace('/', '-')}", k)
        self.build(name)
        self.register_outputs({"artifacts": self.artifacts})

    def installed_kustomizations(self) -> tuple[Kustomization, ...]:
        """The directories `__init__` applies: `kustomizations`, unless the component swaps one for upstream's
        alternative (Model Registry without its database)."""
        return self.kustomizations

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
        """A pinned chart (components/charts.py), released as `release` (default: the chart's name)."""
        self.artifacts.append(f"{chart.repository}/{chart.name}@{chart.version}")
        return helm_chart(name, chart, namespace=namespace, values=values, opts=self.opts(*after), release=release)

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
