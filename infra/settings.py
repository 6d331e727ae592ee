"""All configuration reading: the stack's config and every team file, validated into one Settings.

Under `pulumi up` the engine hands the stack's config to the program; under `kfvs` the stack file
is read and handed over the same way (infra/stackfile.py). Either way, this module is the
only place that reads configuration, and it raises ConfigError (every problem at once) before the
program registers anything.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from infra import paths
from infra.crosscheck import TeamContext, check_clusters, check_kubeflow, check_team_requests, check_vsphere
from infra.errors import ConfigError, Problem
from infra.gpu_checks import check_gpu_config
from infra.layer_config import (
    attribute,
    infra_stack_name,
    layer_of,
    misplaced_keys,
    other_layer,
    with_layer_keys,
)
from infra.layers import LAYERS, Layer, default_infra_stack, environment_of, layer_stack
from infra.loading import load_json, load_yaml, read_config_file
from infra.models.base import Model
from infra.models.cluster import ClusterSettings
from infra.models.compute import VgpuPool
from infra.models.inventory import EnvironmentSettings, VsphereSettings
from infra.models.kubeflow import KubeflowSettings, RegistryMirrorSettings
from infra.models.observability import ObservabilitySettings
from infra.models.stores import check_stores
from infra.models.team import TEAM_FILE_SUFFIX, Team, team_file_problem
from infra.name_checks import check_derived_names, check_team_identity
from infra.policy_configs import check_policy_configs
from infra.provider_keys import check_provider_keys
from infra.secret_checks import check_document_values, check_environment, check_plain_values
from infra.stackfile import read_stack_config
from infra.team_specs import resolve_team_requests
from infra.validation import problems_from


class StackConfig(Model):
    """The project's own keys in `stacks/Pulumi.<stack>.yaml` (under `kubeflow-vsphere:`)."""

    environment: EnvironmentSettings
    vsphere: VsphereSettings
    clusters: list[ClusterSettings] = Field(default_factory=list[ClusterSettings])
    kubeflow: KubeflowSettings | None = None
    registry_mirror: RegistryMirrorSettings | None = None
    observability: ObservabilitySettings | None = None
    """Platform layer: Prometheus, dashboards, alert rules and Grafana (components/services/observability.py)."""
    layer: Layer | None = None
    """`infra` or `platform` (docs/LAYERS.md); unset, the stack is the whole environment."""
    infra_stack: str | None = None
    """The platform layer's infra stack; default `<org>/kubeflow-vsphere/<env>-infra`."""
    organization: str | None = None
    supervisor_kubeconfig: SecretStr | None = None
    ngc_api_key: SecretStr | None = None
    nls_client_token: SecretStr | None = None
    oidc_client_secret: SecretStr | None = None
    ldap_bind_password: SecretStr | None = None
    store_credentials: dict[str, SecretStr] | None = None
    """Entries named by kubeflow.stores credentials (infra/models/stores.py)."""


SUPERVISOR_KUBECONFIG = "supervisorKubeconfig"
"""Config key of the Supervisor's kubeconfig (a secret), needed for VM Service VMs and clusters."""
NGC_API_KEY = "ngcApiKey"
"""Config key of the NVIDIA AI Enterprise registry key (a secret) the GPU Operator pulls drivers with."""
NLS_CLIENT_TOKEN = "nlsClientToken"  # noqa: S105 - a config key name
"""Config key of the NVIDIA License System client configuration token (a secret)."""
OIDC_CLIENT_SECRET = "oidcClientSecret"  # noqa: S105 - a config key name
LDAP_BIND_PASSWORD = "ldapBindPassword"  # noqa: S105 - a config key name


class Secrets(BaseModel):
    """The stack's secrets, read once with the rest of the config; the program wraps each as a Pulumi secret."""

    model_config = ConfigDict(frozen=True)

    supervisor_kubeconfig: SecretStr | None = None
    ngc_api_key: SecretStr | None = None
    nls_client_token: SecretStr | None = None
    oidc_client_secret: SecretStr | None = None
    ldap_bind_password: SecretStr | None = None
    store_credentials: dict[str, SecretStr] | None = None
    """Entries named by kubeflow.stores credentials (infra/models/stores.py)."""


class Settings(BaseModel):
    """Everything the program needs to know, validated; components get slices of it as Args."""

    model_config = ConfigDict(frozen=True)

    project: str
    stack: str
    """The environment's name (`dev` for the stacks `dev`, `dev-infra` and `dev-platform`): names follow it."""
    layer: Layer | None = None
    infra_stack: str | None = None
    environment: EnvironmentSettings
    vsphere: VsphereSettings
    clusters: tuple[ClusterSettings, ...]
    kubeflow: KubeflowSettings | None
    registry_mirror: RegistryMirrorSettings | None
    observability: ObservabilitySettings | None = None
    teams: tuple[Team, ...]
    secret_keys: frozenset[str]
    secrets: Secrets = Secrets()
    """Config secrets, validated; settings is the only reader of configuration."""


def load_settings(
    stack: str,
    config: Mapping[str, str],
    secret_keys: frozenset[str],
    root: Path = paths.PROJECT_ROOT,
) -> Settings:
    """Validate the stack's config and the team files together; raise ConfigError listing all problems."""
    stack_file = paths.relative(paths.stack_file(stack, root), root)
    problems: list[Problem] = []
    layer = layer_of(config)
    other_file: str | None = None
    misplaced: list[Problem] = []
    if layer in LAYERS:
        misplaced = misplaced_keys(config, layer, stack, stack_file)
        config, other_file = environment_config(stack, layer, config, root)
    stack_config = _stack_config(config, stack_file, problems)
    # A layer's stack (`dev-infra`) names its resources, labels and team entries for its environment (`dev`).
    stack = environment_of(stack, stack_config.layer if stack_config else None)
    problems += check_provider_keys(config, secret_keys, stack_file, needs_vcenter=layer != "platform")
    problems += check_plain_values(config, secret_keys, stack_file)
    problems += check_policy_configs(stack, root, stack_config.environment.tier if stack_config else None)
    before = len(problems)
    teams, team_files = _teams(root / "stacks" / "teams", root, problems)
    for team in teams:
        problems += check_team_identity(team, team_files[team.name])
        problems += check_document_values(team.model_dump(mode="json", by_alias=True), team_files[team.name])
    # With a broken team file its name is unknown; checking references to it would only add noise.
    team_names = None if len(problems) > before else [t.name for t in teams]
    if stack_config is not None:
        problems += check_vsphere(stack_config.vsphere, team_names, stack_file)
        problems += check_clusters(stack_config.clusters, stack_config.vsphere, team_names, stack_file)
        problems += check_kubeflow(
            stack_config.kubeflow, stack_config.clusters, stack_config.environment.tier, stack_file
        )
        problems += _check_secrets(stack_config, secret_keys, stack_file)
        if stack_config.kubeflow is not None and stack_config.layer != "infra":
            # The store credentials are the platform layer's secrets (the infra layer sees none of them).
            problems += check_stores(
                stack_config.kubeflow.stores,
                stack_config.kubeflow.components.enabled(),
                stack_config.store_credentials,
                secret_keys,
                stack_file,
            )
        problems += check_environment(stack, stack_config.environment.tier, config, stack_file)
        problems += check_derived_names(
            stack,
            vs=stack_config.vsphere,
            clusters=stack_config.clusters,
            kf=stack_config.kubeflow,
            teams=teams,
            team_files=team_files,
            stack_file=stack_file,
        )
        problems += check_gpu_config(stack_config.clusters, stack_config.vsphere, stack_file)
        problems += check_team_requests(
            teams,
            team_files,
            TeamContext(stack, _environments(root), stack_config.kubeflow, stack_config.clusters, stack_config.vsphere),
        )
    if other_file is not None and layer in LAYERS:
        # A key of the other layer found in this file stays this file's problem (misplaced keys, not remapped).
        problems = misplaced + attribute(problems, stack_file, other_file, other_layer(layer))
    if problems or stack_config is None:
        raise ConfigError(problems)
    # Team requests become pools here, once: the program builds them like the stack's own.
    resolved = resolve_team_requests(
        teams,
        team_files,
        stack=stack,
        clusters=stack_config.clusters,
        vsphere=stack_config.vsphere,
        kubeflow=stack_config.kubeflow,
    )
    if resolved.problems:
        raise ConfigError(resolved.problems)
    return Settings(
        project=paths.PROJECT_NAME,
        stack=stack,
        layer=stack_config.layer,
        infra_stack=(stack_config.infra_stack or default_infra_stack(stack, stack_config.organization))
        if stack_config.layer == "platform"
        else None,
        environment=stack_config.environment,
        vsphere=resolved.vsphere,
        clusters=resolved.clusters,
        kubeflow=stack_config.kubeflow,
        registry_mirror=stack_config.registry_mirror,
        observability=stack_config.observability,
        teams=teams,
        secret_keys=secret_keys,
        secrets=Secrets(
            supervisor_kubeconfig=stack_config.supervisor_kubeconfig,
            ngc_api_key=stack_config.ngc_api_key,
            nls_client_token=stack_config.nls_client_token,
            oidc_client_secret=stack_config.oidc_client_secret,
            ldap_bind_password=stack_config.ldap_bind_password,
            store_credentials=stack_config.store_credentials,
        ),
    )


def environment_config(stack: str, layer: Layer, config: Mapping[str, str], root: Path) -> tuple[dict[str, str], str]:
    """The environment's configuration as seen from one layer's stack: its own file's keys and the other layer's
    file's plain keys (infra/layer_config.py), and that other file's name. The platform layer cannot do without
    its infra layer's file; the infra layer can do without a platform layer (an environment without Kubeflow)."""
    stack_file = paths.relative(paths.stack_file(stack, root), root)
    environment = environment_of(stack, layer)
    other = other_layer(layer)
    other_stack = (
        infra_stack_name(config.get(f"{paths.PROJECT_NAME}:infraStack"), environment)
        if layer == "platform"
        else layer_stack(environment, "platform")
    )
    other_file = paths.relative(paths.stack_file(other_stack, root), root)
    other_path = paths.stack_file(other_stack, root)
    if not other_path.exists() and not other_path.is_symlink():
        if layer == "infra":
            return dict(config), other_file
        raise ConfigError(
            [
                Problem(
                    stack_file,
                    f"{paths.PROJECT_NAME}:layer",
                    f"the platform layer takes the environment, vSphere and clusters from its infra layer's file "
                    f"{other_file}, which does not exist: add it, or set infraStack to the infra layer's stack",
                )
            ]
        )
    other_config, other_secrets = read_stack_config(other_stack, root)
    if layer_of(other_config) != other:
        raise ConfigError(
            [Problem(other_file, f"{paths.PROJECT_NAME}:layer", f"must be `{other}`: {stack_file} is its other layer")]
        )
    return with_layer_keys(config, other_config, other_secrets, other), other_file


def _environments(root: Path) -> list[str]:
    """The environments team files may name (a layered pair of stacks is one)."""
    return paths.list_environments(root)


def load_from_runtime(root: Path = paths.PROJECT_ROOT) -> Settings:
    """Settings from the config the engine (or kfvs's mock runtime) gave this process."""
    config = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    secret = {k for k in config if pulumi.runtime.is_config_secret(k)}
    secret |= set(pulumi.runtime.get_config_secret_keys_env())
    return load_settings(pulumi.get_stack(), config, frozenset(secret), root)


def _stack_config(config: Mapping[str, str], file: str, problems: list[Problem]) -> StackConfig | None:
    prefix = f"{paths.PROJECT_NAME}:"
    raw = {key.removeprefix(prefix): _decode(value) for key, value in config.items() if key.startswith(prefix)}
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        problems += problems_from(error, StackConfig, file, prefix)
        return None


def secret_needs(config: StackConfig) -> dict[str, list[str]]:
    """Each secret of the project's namespace these settings make the program read, and what reads it, in the
    layer that reads it (`kfvs secrets` and the checks below share this table)."""
    operators = [
        f"the GPU Operator of cluster {c.name}" for c in config.clusters if c.gpu_operator and c.gpu_operator.enabled
    ]
    licensed = [
        f"the guest driver of vGPU pool {p.name}"
        for p in config.vsphere.gpu_pools
        if isinstance(p, VgpuPool) and p.guest_driver is not None
    ]
    vgpu_pools = [f"vGPU pool {p.name}" for p in config.vsphere.gpu_pools if isinstance(p, VgpuPool)]
    auth = config.kubeflow.auth.mode if config.kubeflow is not None else None
    infra = config.layer != "platform"
    platform = config.layer != "infra"
    return {
        SUPERVISOR_KUBECONFIG: [*vgpu_pools, *(f"cluster {c.name}" for c in config.clusters)] if infra else [],
        NGC_API_KEY: operators if platform else [],
        NLS_CLIENT_TOKEN: [*(operators if platform else []), *(licensed if infra else [])],
        OIDC_CLIENT_SECRET: ["Kubeflow's OIDC login (kubeflow.auth.mode: oidc)"] if platform and auth == "oidc" else [],
        LDAP_BIND_PASSWORD: ["Kubeflow's LDAP login (kubeflow.auth.mode: ldap)"] if platform and auth == "ldap" else [],
    }


def _check_secrets(config: StackConfig, secret_keys: frozenset[str], file: str) -> list[Problem]:
    """Secrets some features need: present when needed (in the layer that uses them), never in plain text."""
    values = {
        SUPERVISOR_KUBECONFIG: config.supervisor_kubeconfig,
        NGC_API_KEY: config.ngc_api_key,
        NLS_CLIENT_TOKEN: config.nls_client_token,
        OIDC_CLIENT_SECRET: config.oidc_client_secret,
        LDAP_BIND_PASSWORD: config.ldap_bind_password,
    }
    problems: list[Problem] = []
    for name, users in secret_needs(config).items():
        key = f"{paths.PROJECT_NAME}:{name}"
        if values[name] is None and users:
            problems.append(
                Problem(file, key, f"required by {', '.join(users)}: set it with `pulumi config set --secret {name}`")
            )
        elif values[name] is not None and key not in secret_keys:
            problems.append(Problem(file, key, "is stored in plain text: set it with `pulumi config set --secret`"))
    return problems


def _decode(value: str) -> Any:
    """Pulumi passes structured config as JSON text and scalars as plain text.

    Strict (no NaN, no duplicate keys, bounded depth): text that is not such JSON stays text, which the
    model then refuses with the key's name."""
    if value[:1] in ("{", "["):
        try:
            return load_json(value, "")
        except ConfigError:
            return value
    return value


def _teams(teams_dir: Path, root: Path, problems: list[Problem]) -> tuple[tuple[Team, ...], dict[str, str]]:
    """Every entry of `stacks/teams/`, in name order so the result never depends on the file system.

    Each must be a team file named for its team (`team_file_problem`); anything else there is an error,
    not ignored: a file that is silently skipped is a team that silently loses its access.
    """
    teams: list[Team] = []
    files: dict[str, str] = {}
    try:
        entries = sorted(os.scandir(teams_dir), key=lambda e: e.name) if teams_dir.is_dir() else []
    except OSError as error:
        problems.append(Problem(paths.relative(teams_dir, root), "", f"cannot be listed: {error.strerror}"))
        return (), files
    for entry in entries:
        path = teams_dir / entry.name
        file = paths.relative(path, root)
        wrong = team_file_problem(entry.name)
        if wrong is not None:
            problems.append(Problem(file, "", wrong))
            continue
        team = _team(path, root, file, problems)
        if team is None:
            continue
        stem = entry.name.removesuffix(TEAM_FILE_SUFFIX)
        if team.name != stem:
            problems.append(
                Problem(
                    file,
                    "name",
                    f"is '{team.name}' but the file is named for team '{stem}': a team file is "
                    f"stacks/teams/<name>.yaml with the same name inside; rename the file or the team",
                )
            )
            continue
        files[team.name] = file
        teams.append(team)
    return tuple(sorted(teams, key=lambda t: t.name)), files


def _team(path: Path, root: Path, file: str, problems: list[Problem]) -> Team | None:
    try:
        text = read_config_file(path, root)
    except ConfigError as error:
        problems += error.problems
        return None
    team, found = _parse_team(file, text)
    problems += found
    return team


@functools.lru_cache(maxsize=4096)
def _parse_team(file: str, text: str) -> tuple[Team | None, tuple[Problem, ...]]:
    """A team file's model or its problems; cached because kfvs validates before the program reads again."""
    try:
        raw = load_yaml(text, file)
    except ConfigError as error:
        return None, tuple(error.problems)
    if raw is not None and not isinstance(raw, dict):
        return None, (Problem(file, "", "expected a mapping of keys (name, owners, ...) at the top"),)
    try:
        return Team.model_validate(raw if raw is not None else {}), ()
    except ValidationError as error:
        return None, tuple(problems_from(error, Team, file))
