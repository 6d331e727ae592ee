"""One team in one environment: its Kubeflow profile with a quota, defaults, contributors and GPU access."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubeflow.ingress import INGRESS_GATEWAY_PRINCIPAL
from components.kubeflow.spawner import GpuPoolOffer
from components.labels import TEAM_LABEL, pss_labels

INGRESS_PRINCIPALS = [INGRESS_GATEWAY_PRINCIPAL, "cluster.local/ns/kubeflow/sa/ml-pipeline-ui"]
"""KFAM v1.10.0's principals (defaults of `ISTIO_INGRESS_GATEWAY_PRINCIPAL`, `KFP_UI_PRINCIPAL`)."""
USERID_HEADER = "kubeflow-userid"
"""The profile controller's and KFAM's `USERID_HEADER` in 26.03 (with an empty `USERID_PREFIX`)."""
PROFILE_NAMESPACE_LABELS = {"istio-injection": "enabled", **pss_labels("baseline")}
"""What the profile controller (v1.10.0) gives a namespace it creates: sidecar injection and, with 26.03's `pss`
overlay, Pod Security `baseline`. It adds only the ConfigMap's labels to a namespace that already exists, never
`istio-injection`, so a namespace made ahead of the Profile must carry both itself, or nothing in it is meshed
and no AuthorizationPolicy there is enforced."""


@dataclass(frozen=True, kw_only=True)
class Quota:
    """The profile's hard limits; GPUs always appear, as `requests.nvidia.com/gpu`."""

    cpu: int
    memory_gib: int
    gpus: int
    storage_gib: int
    volumes: int

    def hard(self) -> dict[str, str]:
        return {
            "requests.cpu": str(self.cpu),
            "requests.memory": f"{self.memory_gib}Gi",
            "requests.nvidia.com/gpu": str(self.gpus),
            "requests.storage": f"{self.storage_gib}Gi",
            "persistentvolumeclaims": str(self.volumes),
        }


@dataclass(frozen=True, kw_only=True)
class TenancyArgs:
    """Who the team is, what it may request, and the GPU pools it can reach."""

    team: str
    owner: str
    admins: Sequence[str]
    editors: Sequence[str]
    quota: Quota
    default_request: Mapping[str, str]
    default_limit: Mapping[str, str]
    gpu_pools: Sequence[GpuPoolOffer]
    """The GPU pools the team may use (`spawner.pools_for`): one PodDefault each."""
    provider: pulumi.ProviderResource
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    depends_on: Sequence[pulumi.Resource] = ()


_SEPARATORS = re.compile(r"[^a-zA-Z0-9]+")


def kfam_name(email: str, role: str) -> str:
    """KFAM v1.10.0's binding name (`getBindingName`): kind, user, `ClusterRole` and role joined by dashes and
    lower-cased, every run of other characters one dash. The same name, so KFAM lists and removes what we make."""
    raw = "-".join(["User", _SEPARATORS.sub("-", email), "ClusterRole", role]).lower()
    return _SEPARATORS.sub("-", raw)


@dataclass(frozen=True)
class _Grant:
    """Access for one user: KFAM's binding name, annotations and policy. Users only: KFAM v1.10.0 has no groups."""

    binding: str
    subject: str
    role: str
    annotations: Mapping[str, str]


def _grants(args: TenancyArgs) -> list[_Grant]:
    people = [(email, "admin") for email in args.admins] + [(email, "edit") for email in args.editors]
    return [_Grant(kfam_name(email, role), email, role, {"user": email, "role": role}) for email, role in people]


def contributor_policy(subject: str, header: str = USERID_HEADER) -> dict[str, Any]:
    """KFAM's `getAuthorizationPolicy`: requests through the gateway (or the Pipelines UI) carrying the user's id."""
    return {
        "rules": [
            {
                "when": [{"key": f"request.headers[{header}]", "values": [subject]}],
                "from": [{"source": {"principals": list(INGRESS_PRINCIPALS)}}],
            }
        ]
    }


def profile_spec(args: TenancyArgs) -> dict[str, Any]:
    return {
        "owner": {"kind": "User", "name": args.owner, "apiGroup": "rbac.authorization.k8s.io"},
        "resourceQuotaSpec": {"hard": args.quota.hard()},
    }


class TeamTenancy(pulumi.ComponentResource):
    """Namespace (owned by the profile), Profile, LimitRange, contributors (KFAM conventions), PodDefaults."""

    def __init__(self, name: str, args: TenancyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:tenancy:TeamTenancy", name, None, opts)
        self.args = args
        labels = {**args.labels, TEAM_LABEL: args.team}
        base = pulumi.ResourceOptions(parent=self, provider=args.provider)
        # Made before the Profile, with the owner annotation the profile controller checks, so the
        # namespaced objects below never race the controller. Only the namespace waits for the platform
        # (`depends_on`), the Profile for the namespace, the rest for the Profile: the order holds through
        # the chain, and the SDK's cycle check walks one short path per object, not the whole platform.
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.team, labels={**labels, **PROFILE_NAMESPACE_LABELS}, annotations={"owner": args.owner}
            ),
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=list(args.depends_on))),
        )
        profile = k8s.apiextensions.CustomResource(
            f"{name}-profile",
            api_version="kubeflow.org/v1",
            kind="Profile",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.team, labels=labels),
            spec=profile_spec(args),
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[namespace])),
        )
        inside = pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[profile]))
        self._limit_range(name, labels, inside)
        self._contributors(name, labels, inside)
        self._pod_defaults(name, labels, inside)
        self.register_outputs({"namespace": args.team})

    def _meta(
        self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None
    ) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=self.args.team, labels=dict(labels), annotations=dict(annotations or {}) or None
        )

    def _limit_range(self, name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.LimitRange(
            f"{name}-defaults",
            metadata=self._meta("kubeflow-vsphere-defaults", labels),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request=dict(self.args.default_request),
                        default=dict(self.args.default_limit),
                    )
                ]
            ),
            opts=opts,
        )

    def _contributors(self, name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions) -> None:
        """Per person: the RoleBinding and Istio AuthorizationPolicy KFAM would make for a person."""
        for grant in _grants(self.args):
            k8s.rbac.v1.RoleBinding(
                f"{name}-{grant.binding}",
                metadata=self._meta(grant.binding, labels, grant.annotations),
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=f"kubeflow-{grant.role}"
                ),
                subjects=[
                    k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="User", name=grant.subject)
                ],
                opts=opts,
            )
            k8s.apiextensions.CustomResource(
                f"{name}-{grant.binding}-policy",
                api_version="security.istio.io/v1",
                kind="AuthorizationPolicy",
                metadata=self._meta(grant.binding, labels, grant.annotations),
                spec=contributor_policy(grant.subject),
                opts=opts,
            )

    def _pod_defaults(self, name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions) -> None:
        """One per GPU pool the team may use, shown in the spawner's configurations as what the pool is: it tolerates
        exactly the pool's taints (the GPU taint, a team pool's own). The PodDefault CRD of 26.03 has no node
        affinity; the spawner's affinity options pin a notebook to a shared pool."""
        for pool in self.args.gpu_pools:
            k8s.apiextensions.CustomResource(
                f"{name}-poddefault-{pool.pool}",
                api_version="kubeflow.org/v1alpha1",
                kind="PodDefault",
                metadata=self._meta(pool.selector, labels),
                spec={
                    "desc": pool.description,
                    "selector": {"matchLabels": {pool.selector: "true"}},
                    "tolerations": pool.tolerations,
                },
                opts=opts,
            )
