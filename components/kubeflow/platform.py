"""One Kubeflow installation on one workload cluster: the enabled components, each after its prerequisites."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.kubeflow import addons, apps, workloads
from components.kubeflow.auth import Dex, IdentitySettings, OAuth2Proxy
from components.kubeflow.base import ComponentArgs, KubeflowComponent
from components.kubeflow.dependencies import install_order, longest_chain, waits_for
from components.kubeflow.ingress import CertManager, IngressSettings, Istio
from components.kubeflow.ordering import webhook_order

_SIMPLE: Mapping[str, type[KubeflowComponent]] = {
    "certManager": CertManager,
    "kubeflowNamespace": apps.KubeflowNamespace,
    "profiles": apps.Profiles,
    "centralDashboard": apps.CentralDashboard,
    "admissionWebhook": apps.AdmissionWebhook,
    "notebooks": apps.Notebooks,
    "volumesWebApp": apps.VolumesWebApp,
    "tensorboards": apps.Tensorboards,
    "pvcViewer": apps.PvcViewer,
    "pipelines": apps.Pipelines,
    "katib": workloads.Katib,
    "trainingOperator": workloads.TrainingOperator,
    "knative": workloads.Knative,
    "modelRegistry": workloads.ModelRegistry,
    "sparkOperator": workloads.SparkOperator,
    "trainer": workloads.Trainer,
    "seldonCore": addons.SeldonCore,
    "mlrun": addons.MLRun,
    "nuclio": addons.Nuclio,
    "emissary": addons.Emissary,
}


@dataclass(frozen=True)
class KubeflowArgs:
    """What to install and how users reach it; prerequisites are checked by settings before this runs."""

    provider: pulumi.ProviderResource
    enabled: Sequence[str]
    ingress: IngressSettings
    identity: IdentitySettings
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    depends_on: Sequence[pulumi.Resource] = ()
    raw_serving: bool = False


class KubeflowPlatform(pulumi.ComponentResource):
    """Parent of every Kubeflow component; `longest_chain` is the deepest run of prerequisites."""

    components: dict[str, KubeflowComponent]
    longest_chain: list[str]
    static_password: pulumi.Output[str] | None

    def __init__(self, name: str, args: KubeflowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:kubeflow:KubeflowPlatform", name, None, opts)
        if {"kserve", "knative"} & set(args.enabled):
            # Before any component: the engine applies a stack transform to later registrations only.
            pulumi.runtime.register_resource_transform(webhook_order())
        self.components = {}
        self.static_password = None
        for key in install_order(args.enabled):
            after = [self.components[d] for d in waits_for(key, args.enabled, args.raw_serving)]
            base = ComponentArgs(
                provider=args.provider,
                depends_on=[*args.depends_on, *after],
                labels=args.labels,
                enabled=tuple(args.enabled),
            )
            self.components[key] = self._component(f"{name}-{_kebab(key)}", key, base, args)
        self.longest_chain = longest_chain({k: waits_for(k, args.enabled, args.raw_serving) for k in self.components})
        self.register_outputs({"components": sorted(self.components), "longestChain": self.longest_chain})

    def _component(self, name: str, key: str, base: ComponentArgs, args: KubeflowArgs) -> KubeflowComponent:
        child = pulumi.ResourceOptions(parent=self)
        if key == "istio":
            return Istio(name, base, args.ingress, child)
        if key == "dex":
            dex = Dex(name, base, args.identity, child)
            self.static_password = dex.static_password
            return dex
        if key == "oauth2Proxy":
            dex_component = self.components["dex"]
            assert isinstance(dex_component, Dex)
            return OAuth2Proxy(name, base, dex_component.client_secret, child)
        if key == "kserve":
            return workloads.KServe(name, base, args.raw_serving, child)
        return _SIMPLE[key](name, base, child)


def _kebab(key: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)
