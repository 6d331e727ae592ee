"""Which stack file of an environment holds which key, and the platform layer's view of its infra layer's file.

Each key lives in one layer's file (docs/LAYERS.md). The vSphere administrators own `<env>-infra`: the
environment, vCenter, the Supervisor and the clusters with their GPU Operator settings (the operator's driver must
match the hosts' vGPU Manager, an infrastructure fact). The platform team owns `<env>-platform`: Kubeflow, sign-in
and the secrets the in-cluster services use. The platform layer needs the clusters' shape too (GPU pool taints,
the node pools a team may use), so it reads the infra layer's file from the repository, as it reads the team files:
plain values only, never that file's secrets, which are encrypted for the other stack.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra import paths
from infra.errors import Problem
from infra.layers import Layer, environment_of, layer_stack

_PREFIX = f"{paths.PROJECT_NAME}:"

INFRA_KEYS = frozenset({"environment", "vsphere", "clusters", "supervisorKubeconfig"})
"""Project keys of the infra layer's file; the platform layer takes the plain ones from it."""
PLATFORM_KEYS = frozenset(
    {
        "kubeflow",
        "registryMirror",
        "observability",
        "infraStack",
        "organization",
        "ngcApiKey",
        "oidcClientSecret",
        "ldapBindPassword",
        "storeCredentials",
    }
)
"""Project keys of the platform layer's file."""
SHARED_KEYS = frozenset({"layer", "nlsClientToken"})
"""In either file: the layer itself, and the NVIDIA licence token, which licensed vGPU VMs (infra) and the GPU
Operator (platform) each need, each stack with its own encrypted copy."""
INFRA_NAMESPACES = frozenset({"vsphere"})
"""Provider namespaces only the infra layer uses: the platform layer makes no vCenter call."""


def layer_of(config: Mapping[str, str]) -> str | None:
    """The raw `kubeflow-vsphere:layer` (validated with the rest of the stack config)."""
    return config.get(f"{_PREFIX}layer")


def misplaced_keys(config: Mapping[str, str], layer: Layer, stack: str, file: str) -> list[Problem]:
    """Keys of the other layer in this layer's file: one problem each, naming the file the key belongs in."""
    other: Layer = "platform" if layer == "infra" else "infra"
    home = f"stacks/Pulumi.{layer_stack(environment_of(stack, layer), other)}.yaml"
    foreign = PLATFORM_KEYS if layer == "infra" else INFRA_KEYS
    problems = []
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        wrong = (namespace == paths.PROJECT_NAME and name in foreign) or (
            layer == "platform" and namespace in INFRA_NAMESPACES
        )
        if wrong:
            problems.append(Problem(file, key, f"belongs to the {other} layer: move it to {home}"))
    return problems


def infra_stack_name(infra_stack: str | None, environment: str) -> str:
    """The infra layer's stack name from `infraStack` (`org/project/dev-infra` -> `dev-infra`), or its default."""
    return infra_stack.rsplit("/", 1)[-1] if infra_stack else layer_stack(environment, "infra")


def other_layer(layer: Layer) -> Layer:
    return "platform" if layer == "infra" else "infra"


def owned_keys(layer: Layer) -> frozenset[str]:
    """The project keys a layer's file holds (besides the shared ones)."""
    return INFRA_KEYS if layer == "infra" else PLATFORM_KEYS


def with_layer_keys(
    config: Mapping[str, str], other: Mapping[str, str], other_secrets: frozenset[str], other_layer: Layer
) -> dict[str, str]:
    """This layer's config with the other layer's plain project keys added: together they are the environment's
    configuration. Never the other file's secrets, which are encrypted for the other stack."""
    merged = dict(config)
    for key, value in other.items():
        namespace, _, name = key.partition(":")
        if namespace == paths.PROJECT_NAME and name in owned_keys(other_layer) and key not in other_secrets:
            merged.setdefault(key, value)
    return merged


def attribute(problems: list[Problem], file: str, other_file: str, other: Layer) -> list[Problem]:
    """Problems found in the environment's configuration, each naming the file its key lives in."""
    keys = owned_keys(other)

    def home(p: Problem) -> str:
        namespace, _, rest = p.key.partition(":")
        name = rest.split(".", 1)[0].split("[", 1)[0]
        return other_file if p.file == file and namespace == paths.PROJECT_NAME and name in keys else p.file

    return [Problem(home(p), p.key, p.message) for p in problems]
