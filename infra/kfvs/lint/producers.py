"""Objects the cluster or a controller creates at run time, which references may name although nobody applies them.

The one list of them, with why; everything else a reference names must be in the rendering.
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.kfvs.lint.model import Platform

BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Created by the API server itself."""

PER_NAMESPACE = (
    ("", "ServiceAccount", "default"),  # the service-account controller, in every namespace
    ("", "ConfigMap", "kube-root-ca.crt"),  # the root-CA publisher, in every namespace
)
PER_NAMESPACE_WITH_ISTIO = (("", "ConfigMap", "istio-ca-root-cert"),)  # istiod's namespace controller
PROFILE_NAMESPACE = (
    # The Kubeflow profile controller (kubeflow/kubeflow components/profile-controller), for each Profile.
    ("", "ServiceAccount", "default-editor"),
    ("", "ServiceAccount", "default-viewer"),
    ("rbac.authorization.k8s.io", "RoleBinding", "namespaceAdmin"),
    ("security.istio.io", "AuthorizationPolicy", "ns-owner-access-istio"),
    ("", "ResourceQuota", "kf-resource-quota"),
)

Made = tuple[str, str, str, str, str]
"""(cluster, group, kind, namespace, name)"""


def made_at_run_time(platform: Platform, istio: bool) -> Iterator[Made]:
    """Every object that will exist without being applied."""
    clusters = {o.cluster for o in platform.objects}
    namespaces: set[tuple[str, str]] = {(c, n) for c in clusters for n in BUILTIN_NAMESPACES}
    namespaces |= {(o.cluster, o.name) for o in platform.of_kind("", "Namespace")}
    for profile in platform.of_kind("kubeflow.org", "Profile"):
        namespaces.add((profile.cluster, profile.name))
        yield (profile.cluster, "", "Namespace", "", profile.name)
        for group, kind, name in PROFILE_NAMESPACE:
            yield (profile.cluster, group, kind, profile.name, name)
    for cluster, ns in namespaces:
        yield (cluster, "", "Namespace", "", ns)
        for group, kind, name in PER_NAMESPACE + (PER_NAMESPACE_WITH_ISTIO if istio else ()):
            yield (cluster, group, kind, ns, name)
    for cert in platform.of_kind("cert-manager.io", "Certificate"):
        secret = str(cert.spec.get("secretName") or "")
        if secret:  # cert-manager writes the issued certificate there
            yield (cert.cluster, "", "Secret", cert.namespace, secret)
    yield from _cluster_secrets(platform)


def _cluster_secrets(platform: Platform) -> Iterator[Made]:
    """Cluster API writes `<cluster>-kubeconfig` (and `-ca`) beside each Cluster on the Supervisor."""
    for cluster in platform.of_kind("cluster.x-k8s.io", "Cluster"):
        for suffix in ("kubeconfig", "ca"):
            yield (cluster.cluster, "", "Secret", cluster.namespace, f"{cluster.name}-{suffix}")
    for tkc in platform.of_kind("run.tanzu.vmware.com", "TanzuKubernetesCluster"):
        yield (tkc.cluster, "", "Secret", tkc.namespace, f"{tkc.name}-kubeconfig")
