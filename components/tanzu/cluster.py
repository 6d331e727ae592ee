"""A TKG Service workload cluster, its admin kubeconfig, and a Kubernetes provider for it."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.tanzu.specs import ClusterSpec, cluster_api_body, tkc_annotations, tkc_body

WAIT_FOR_READY = {"pulumi.com/waitFor": "condition=Ready"}
"""pulumi-kubernetes waits for this condition before the object counts as created."""


@dataclass(frozen=True, kw_only=True)
class WorkloadClusterArgs:
    """The cluster's spec, the API to express it in, and the Supervisor provider that applies it."""

    spec: ClusterSpec
    supervisor: pulumi.ProviderResource
    api: Literal["clusterClass", "tanzuKubernetesCluster"] = "clusterClass"
    depends_on: Sequence[pulumi.Resource] = ()
    create_timeout: str = "60m"
    protect: bool = False
    """Protect the cluster object (prod): deleting it deletes every node and what runs there."""


class WorkloadCluster(pulumi.ComponentResource):
    """The cluster object on the Supervisor; `provider` reaches the cluster itself for every later layer."""

    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    cluster: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: WorkloadClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:tanzu:WorkloadCluster", name, None, opts)
        spec = args.spec
        on_supervisor = pulumi.ResourceOptions(parent=self, provider=args.supervisor)
        needs: list[pulumi.Resource] = list(args.depends_on)
        if spec.trusted_cas and args.api == "clusterClass":
            # A ClusterClass reads the CAs from this Secret; a TanzuKubernetesCluster carries them inline.
            needs.append(self._trusted_ca_secret(name, spec, on_supervisor))
        self.cluster = self._cluster_object(name, args, needs)
        # The engine runs reads at preview and does not wait for `depends_on` (pulumi/pulumi#16395), so a fixed
        # ID would be read, and not found, on the first preview. The ID is made an output of the cluster
        # object's own ID, which is unknown until the object is created and Ready: the first preview skips the
        # read, and `up` reads the Secret only after the cluster exists. Not of `metadata`: a preview answers a
        # create with its inputs, so the name would be known and the read would run. `depends_on` stays for
        # the recorded dependency (deletion order), not for ordering the read.
        secret_id = kubeconfig_secret_id(spec.namespace, spec.name)
        kubeconfig_secret = k8s.core.v1.Secret.get(
            f"{name}-kubeconfig",
            self.cluster.id.apply(lambda _: secret_id),
            opts=pulumi.ResourceOptions(parent=self, provider=args.supervisor, depends_on=[self.cluster]),
        )
        self.kubeconfig = pulumi.Output.secret(kubeconfig_secret.data.apply(_decode_kubeconfig))
        self.provider = k8s.Provider(
            f"{name}-provider", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})

    def _trusted_ca_secret(self, name: str, spec: ClusterSpec, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
        # TKG wants each CA base64-encoded inside the Secret's (itself base64) data: stringData adds the outer layer.
        return k8s.core.v1.Secret(
            f"{name}-trusted-cas",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.trusted_ca_secret, namespace=spec.namespace, labels=dict(spec.labels)
            ),
            type="Opaque",
            string_data={n: base64.b64encode(pem.encode()).decode() for n, pem in sorted(spec.trusted_cas.items())},
            opts=opts,
        )

    def _cluster_object(
        self, name: str, args: WorkloadClusterArgs, needs: list[pulumi.Resource]
    ) -> k8s.apiextensions.CustomResource:
        spec = args.spec
        body = cluster_api_body(spec) if args.api == "clusterClass" else tkc_body(spec)
        annotations = {**WAIT_FOR_READY, **(tkc_annotations(spec) if args.api == "tanzuKubernetesCluster" else {})}
        return k8s.apiextensions.CustomResource(
            f"{name}-cluster",
            api_version=body["apiVersion"],
            kind=body["kind"],
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.name, namespace=spec.namespace, labels=dict(spec.labels), annotations=annotations
            ),
            spec=body["spec"],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.supervisor,
                depends_on=needs,
                protect=args.protect,
                custom_timeouts=pulumi.CustomTimeouts(create=args.create_timeout, update=args.create_timeout),
            ),
        )


def kubeconfig_secret_id(namespace: str, cluster: str) -> str:
    """The admin kubeconfig Secret TKG writes beside the cluster object: `<namespace>/<cluster>-kubeconfig`."""
    return f"{namespace}/{cluster}-kubeconfig"


def _decode_kubeconfig(data: Mapping[str, Any] | None) -> str:
    """The `value` key of `<cluster>-kubeconfig`, which Kubernetes hands back base64-encoded."""
    encoded = (data or {}).get("value", "")
    return base64.b64decode(str(encoded)).decode()
