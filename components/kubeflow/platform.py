"""One Kubeflow installation on one workload cluster: the enabled components, each after its prerequisites."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.kubeflow.auth import Dex
from components.kubeflow.base import ComponentArgs, KubeflowComponent
from components.kubeflow.dependencies import install_order, longest_chain, waits_for
from components.kubeflow.ordering import webhook_order
from components.kubeflow.registry import BY_KEY
from components.kubeflow.settings import IdentitySettings, IngressSettings
from components.kubeflow.spawner import SpawnerSettings
from components.kubeflow.stores import StoreSettings


@dataclass(frozen=True, kw_only=True)
class KubeflowArgs:
    """What to install and how users reach it; prerequisites are checked by settings before this runs."""

    provider: pulumi.ProviderResource
    enabled: Sequence[str]
    ingress: IngressSettings
    identity: IdentitySettings
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    depends_on: Sequence[pulumi.Resource] = ()
    raw_serving: bool = False
    notebooks: SpawnerSettings | None = None
    stores: StoreSettings | None = None


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
                ingress=args.ingress,
                identity=args.identity,
                depends_on=[*args.depends_on, *after],
                labels=args.labels,
                enabled=tuple(args.enabled),
                raw_serving=args.raw_serving,
                installed=dict(self.components),
                notebooks=args.notebooks,
                stores=args.stores,
            )
            component = BY_KEY[key](f"{name}-{_kebab(key)}", base, pulumi.ResourceOptions(parent=self))
            if isinstance(component, Dex):
                self.static_password = component.static_password
            self.components[key] = component
        self.longest_chain = longest_chain({k: waits_for(k, args.enabled, args.raw_serving) for k in self.components})
        self.register_outputs({"components": sorted(self.components), "longestChain": self.longest_chain})


def _kebab(key: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)
