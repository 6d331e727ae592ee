"""Rule `rbac`: a team member (bound to `kubeflow-edit` in the team's namespace) may create what teams are served.

Aggregation is followed as Kubernetes' clusterrole-aggregation controller does: a ClusterRole with an
`aggregationRule` gets the rules of every ClusterRole its selectors match, and those may be aggregated themselves
(kubeflow-view -> kubeflow-edit -> kubeflow-admin, as in kubeflow/manifests common/kubeflow-roles), to a fixpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import Obj, Platform, as_dict, as_list, selects

RULE = "rbac"
TEAM_ROLE = "kubeflow-edit"
AGGREGATE_LABEL = "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit"

TEAM_FACING: dict[str, tuple[frozenset[str], str]] = {
    "kubeflow.org": (
        frozenset(
            {
                "Notebook",
                "PyTorchJob",
                "TFJob",
                "MPIJob",
                "XGBoostJob",
                "PaddleJob",
                "JAXJob",
                "Experiment",
                "PVCViewer",
                "ScheduledWorkflow",
            }
        ),
        "what teams start themselves: notebooks, Training Operator v1 jobs, Katib experiments, volume viewers and "
        "recurring pipeline runs (Profile is cluster-scoped; Trials, Suggestions and PodDefaults are the "
        "controllers' or the platform's)",
    ),
    "trainer.kubeflow.org": (frozenset({"TrainJob"}), "Trainer v2 jobs (the runtimes are the platform's)"),
    "serving.kserve.io": (frozenset({"InferenceService"}), "models teams serve (ServingRuntimes are the platform's)"),
    "tensorboard.kubeflow.org": (frozenset({"Tensorboard"}), "TensorBoards teams open from the dashboard"),
    "sparkoperator.k8s.io": (frozenset({"SparkApplication", "ScheduledSparkApplication"}), "Spark jobs teams submit"),
    "argoproj.io": (
        frozenset({"Workflow", "CronWorkflow", "WorkflowTemplate"}),
        "pipeline runs execute as the team's Argo workflows",
    ),
}
"""The one list of kinds a team creates in its own namespace, by group, with why."""


def _plural(crd: Obj) -> str:
    return str(as_dict(crd.spec.get("names")).get("plural") or "")


def _kind(crd: Obj) -> str:
    return str(as_dict(crd.spec.get("names")).get("kind") or "")


def effective_rules(roles: dict[str, Obj]) -> dict[str, list[dict[str, Any]]]:
    """ClusterRole name -> its rules after aggregation (to a fixpoint, as the controller converges)."""
    rules = {name: [as_dict(r) for r in as_list(role.manifest.get("rules"))] for name, role in roles.items()}
    aggregated = {name: role for name, role in roles.items() if as_dict(role.manifest.get("aggregationRule"))}
    for _ in range(len(roles) + 1):
        changed = False
        for name, role in aggregated.items():
            selectors = as_list(as_dict(role.manifest.get("aggregationRule")).get("clusterRoleSelectors"))
            gathered: list[dict[str, Any]] = []
            for other_name, other in sorted(roles.items()):
                if other_name != name and any(selects(as_dict(s), other.labels) for s in selectors):
                    gathered += [r for r in rules[other_name] if r not in gathered]
            if gathered != rules[name]:
                rules[name], changed = gathered, True
        if not changed:
            break
    return rules


def allows(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    def has(rule: dict[str, Any], field: str, value: str) -> bool:
        values = [str(v) for v in as_list(rule.get(field))]
        return "*" in values or value in values

    return any(has(r, "apiGroups", group) and has(r, "resources", resource) and has(r, "verbs", verb) for r in rules)


def check(platform: Platform) -> Iterator[Finding]:
    by_cluster: dict[str, dict[str, Obj]] = {}
    for role in platform.of_kind("rbac.authorization.k8s.io", "ClusterRole"):
        by_cluster.setdefault(role.cluster, {}).setdefault(role.name, role)
    served: dict[str, list[Obj]] = {}
    for (cluster, group, kind), crd in sorted(platform.crds.items()):
        if kind in TEAM_FACING.get(group, (frozenset(), ""))[0] and crd.spec.get("scope") == "Namespaced":
            served.setdefault(cluster, []).append(crd)
    for cluster, crds in sorted(served.items()):
        roles = by_cluster.get(cluster, {})
        team_role = roles.get(TEAM_ROLE)
        if team_role is None:
            kinds = ", ".join(_kind(c) for c in crds)
            yield Finding(
                RULE,
                "ClusterRole",
                "",
                TEAM_ROLE,
                f"is not in the rendering, while the platform serves teams {kinds}",
                "install kubeflow/manifests common/kubeflow-roles",
                "",
            )
            continue
        rules = effective_rules(roles)[TEAM_ROLE]
        for crd in crds:
            group, plural = str(crd.spec.get("group")), _plural(crd)
            if not allows(rules, group, plural, "create"):
                kind = _kind(crd)
                yield Finding(
                    RULE,
                    "ClusterRole",
                    "",
                    TEAM_ROLE,
                    f"does not let team members create {kind} ({group} {plural}), which the platform serves to teams",
                    f'install the component\'s ClusterRole labelled {AGGREGATE_LABEL}: "true" '
                    f"granting create on {plural}",
                    crd.component,
                )
