"""`protect` in prod covers exactly the resources that hold state, so removing a team member still applies."""

from __future__ import annotations

from collections import Counter

import pytest

from infra.kfvs.recorder import Recording
from policies.usage import CAPI_CLUSTER, PROFILE, VM, VM_CLASS, VM_SERVICE_VM
from tests import examples

PROTECTED = {
    VM,
    "vsphere:index/contentLibrary:ContentLibrary",
    "vsphere:index/namespace:Namespace",
    CAPI_CLUSTER,
    VM_SERVICE_VM,
    PROFILE,
    "kubernetes:core/v1:Namespace",
}
NEVER = {
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:security.istio.io/v1:AuthorizationPolicy",
    "kubernetes:kubeflow.org/v1alpha1:PodDefault",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:core/v1:Secret",
    "kubernetes:helm.sh/v4:Chart",
    "pulumi:providers:kubernetes",
    VM_CLASS,
    "vsphere:index/tag:Tag",
}


@pytest.fixture(scope="module")
def prod() -> Recording:
    return examples.recording("prod")


def test_prod_protects_the_stateful_resources_and_nothing_else(prod: Recording) -> None:
    resources = list(prod.resources.values())
    protected = Counter(r.type for r in resources if r.protect)
    assert set(protected) == PROTECTED
    unprotected = {r.type for r in resources if not r.protect}
    assert unprotected >= NEVER
    # Components are never protected themselves (their children would all inherit it).
    assert [r.urn for r in resources if r.protect and not r.custom] == []
    # Every VM, library, vSphere Namespace, cluster and Profile is protected.
    for type_ in PROTECTED - {"kubernetes:core/v1:Namespace"}:
        assert all(r.protect for r in resources if r.type == type_), type_


def test_only_team_namespaces_are_protected(prod: Recording) -> None:
    namespaces = [r for r in prod.resources.values() if r.type == "kubernetes:core/v1:Namespace"]
    protected = sorted(r.inputs["metadata"]["name"] for r in namespaces if r.protect)
    teams = sorted(p.inputs["metadata"]["name"] for p in prod.of_type(PROFILE))
    assert protected == teams
    assert "gpu-operator" in {r.inputs["metadata"]["name"] for r in namespaces if not r.protect}


def test_nothing_is_protected_outside_prod() -> None:
    dev = examples.recording("dev")
    assert [r.urn for r in dev.resources.values() if r.protect] == []
