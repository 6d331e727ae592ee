"""Issue 14, tenancy: team namespaces made ahead of their Profile are meshed at upstream's level, and each
contributor gets exactly what KFAM (v1.10.0, as 26.03 pins it) would make, under the name KFAM looks for."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.tenancy import contributor_policy, kfam_name
from tests import examples

NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy"


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return examples.plan("dev")


@pytest.mark.parametrize(
    ("email", "role", "name"),
    [
        ("ben.okafor@example.internal", "edit", "user-ben-okafor-example-internal-clusterrole-edit"),
        ("A..B__c@Example.COM", "admin", "user-a-b-c-example-com-clusterrole-admin"),
        ("a.-b@x.io", "edit", "user-a-b-x-io-clusterrole-edit"),
        ("-lead-@x.io", "view", "user-lead-x-io-clusterrole-view"),
    ],
)
def test_binding_names_are_kfam_s(email: str, role: str, name: str) -> None:
    """KFAM's getBindingName replaces each run of non-alphanumerics by one dash, before and after joining."""
    assert kfam_name(email, role) == name


@given(st.emails())
def test_binding_names_never_hold_a_run_of_separators(email: str) -> None:
    name = kfam_name(email, "edit")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name


def test_contributor_policy_is_the_one_kfam_makes() -> None:
    """getAuthorizationPolicy: no action (ALLOW), the user id header with an empty prefix, and the two principals
    of KFAM's defaults, the first being the gateway's account as 26.03's istio-install names it."""
    assert contributor_policy("ben.okafor@example.internal") == {
        "rules": [
            {
                "when": [{"key": "request.headers[kubeflow-userid]", "values": ["ben.okafor@example.internal"]}],
                "from": [
                    {
                        "source": {
                            "principals": [
                                "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
                                "cluster.local/ns/kubeflow/sa/ml-pipeline-ui",
                            ]
                        }
                    }
                ],
            }
        ]
    }


def test_team_namespaces_are_meshed_before_their_profile(dev: dict[str, Any]) -> None:
    """The profile controller labels `istio-injection` only on namespaces it creates; ours exist first."""
    teams = [r for r in dev["resources"] if r["type"] == NAMESPACE and "TeamTenancy$" in r["urn"]]
    assert {r["inputs"]["metadata"]["name"] for r in teams} >= {"vision", "nlp"}
    for namespace in teams:
        labels = namespace["inputs"]["metadata"]["labels"]
        assert labels["istio-injection"] == "enabled"
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"


def test_each_contributor_policy_sits_beside_its_binding(dev: dict[str, Any]) -> None:
    bindings = {
        (r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"]
        for r in dev["resources"]
        if r["type"] == "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" and "TeamTenancy$" in r["urn"]
    }
    policies = {
        (r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"]
        for r in dev["resources"]
        if r["type"] == POLICY and "TeamTenancy$" in r["urn"]
    }
    # KFAM v1.10.0 grants users only: every contributor binding is a User's, each with the policy KFAM makes.
    assert bindings
    assert [b["subjects"] for b in bindings.values() if [s["kind"] for s in b["subjects"]] != ["User"]] == []
    assert set(policies) == set(bindings)
    for key, binding in bindings.items():
        email = binding["subjects"][0]["name"]
        assert policies[key]["spec"] == contributor_policy(email), key
        assert policies[key]["metadata"]["annotations"] == binding["metadata"]["annotations"]
