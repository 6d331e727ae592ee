"""All configuration reading: the stack's config and every team file, validated into one Settings.

Under `pulumi up` the engine hands the stack's config to the program; under `kfvs` the stack file
is read and handed over the same way (infra/kfvs/stackfile.py). Either way, this module is the
only place that reads configuration, and it raises ConfigError (every problem at once) before the
program registers anything.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from infra import paths
from infra.crosscheck import TeamContext, check_clusters, check_kubeflow, check_team_requests, check_vsphere
from infra.errors import ConfigError, Problem
from infra.models.base import Model
from infra.models.cluster import ClusterSettings
from infra.models.compute import VgpuPool
from infra.models.inventory import EnvironmentSettings, VsphereSettings
from infra.models.kubeflow import KubeflowSettings, RegistryMirrorSettings
from infra.models.team import Team
from infra.provider_keys import check_provider_keys
from infra.validation import problems_from

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it: the same documents, parsed several times faster."""


class StackConfig(Model):
    """The project's own keys in `stacks/Pulumi.<stack>.yaml` (under `kubeflow-vsphere:`)."""

    environment: EnvironmentSettings
    vsphere: VsphereSettings
    clusters: list[ClusterSettings] = Field(default_factory=list[ClusterSettings])
    kubeflow: KubeflowSettings | None = None
    registry_mirror: RegistryMirrorSettings | None = None
    supervisor_kubeconfig: SecretStr | None = None
    ngc_api_key: SecretStr | None = None
    nls_client_token: SecretStr | None = None
    oidc_client_secret: SecretStr | None = None
    ldap_bind_password: SecretStr | None = None


SUPERVISOR_KUBECONFIG = "supervisorKubeconfig"
"""Config key of the Supervisor's kubeconfig (a secret), needed for VM Service VMs and clusters."""
NGC_API_KEY = "ngcApiKey"
"""Config key of the NVIDIA AI Enterprise registry key (a secret) the GPU Operator pulls drivers with."""
NLS_CLIENT_TOKEN = "nlsClientToken"  # noqa: S105 - a config key name
"""Config key of the NVIDIA License System client configuration token (a secret)."""
OIDC_CLIENT_SECRET = "oidcClientSecret"  # noqa: S105 - a config key name
LDAP_BIND_PASSWORD = "ldapBindPassword"  # noqa: S105 - a config key name


class Settings(BaseModel):
    """Everything the program needs to know, validated; components get slices of it as Args."""

    model_config = ConfigDict(frozen=True)

    project: str
    stack: str
    environment: EnvironmentSettings
    vsphere: VsphereSettings
    clusters: tuple[ClusterSettings, ...]
    kubeflow: KubeflowSettings | None
    registry_mirror: RegistryMirrorSettings | None
    teams: tuple[Team, ...]
    secret_keys: frozenset[str]


def load_settings(
    stack: str,
    config: Mapping[str, str],
    secret_keys: frozenset[str],
    root: Path = paths.PROJECT_ROOT,
) -> Settings:
    """Validate the stack's config and the team files together; raise ConfigError listing all problems."""
    stack_file = paths.relative(paths.stack_file(stack, root), root)
    problems: list[Problem] = []
    stack_config = _stack_config(config, stack_file, problems)
    problems += check_provider_keys(config, secret_keys, stack_file)
    before = len(problems)
    teams, team_files = _teams(root / "stacks" / "teams", root, problems)
    # With a broken team file its name is unknown; checking references to it would only add noise.
    team_names = None if len(problems) > before else [t.name for t in teams]
    if stack_config is not None:
        problems += check_vsphere(stack_config.vsphere, team_names, stack_file)
        problems += check_clusters(stack_config.clusters, stack_config.vsphere, team_names, stack_file)
        problems += check_kubeflow(
            stack_config.kubeflow, stack_config.clusters, stack_config.environment.tier, stack_file
        )
        problems += _check_secrets(stack_config, secret_keys, stack_file)
        problems += check_team_requests(
            teams,
            team_files,
            TeamContext(
                stack, paths.list_stacks(root), stack_config.kubeflow, stack_config.clusters, stack_config.vsphere
            ),
        )
    if problems or stack_config is None:
        raise ConfigError(problems)
    return Settings(
        project=paths.PROJECT_NAME,
        stack=stack,
        environment=stack_config.environment,
        vsphere=stack_config.vsphere,
        clusters=tuple(stack_config.clusters),
        kubeflow=stack_config.kubeflow,
        registry_mirror=stack_config.registry_mirror,
        teams=teams,
        secret_keys=secret_keys,
    )


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


def _check_secrets(config: StackConfig, secret_keys: frozenset[str], file: str) -> list[Problem]:
    """Secrets some features need: present when needed, and never stored in plain text."""
    vgpu_pools = [p.name for p in config.vsphere.gpu_pools if isinstance(p, VgpuPool)]
    operators = [c.name for c in config.clusters if c.gpu_operator and c.gpu_operator.enabled]
    needs = {
        SUPERVISOR_KUBECONFIG: (
            [f"vGPU pool {n}" for n in vgpu_pools] + [f"cluster {c.name}" for c in config.clusters]
        ),
        NGC_API_KEY: [f"the GPU Operator of cluster {n}" for n in operators],
        NLS_CLIENT_TOKEN: [f"the GPU Operator of cluster {n}" for n in operators],
    }
    values = {
        SUPERVISOR_KUBECONFIG: config.supervisor_kubeconfig,
        NGC_API_KEY: config.ngc_api_key,
        NLS_CLIENT_TOKEN: config.nls_client_token,
    }
    problems: list[Problem] = []
    for name, users in needs.items():
        key = f"{paths.PROJECT_NAME}:{name}"
        if values[name] is None and users:
            problems.append(
                Problem(file, key, f"required by {', '.join(users)}: set it with `pulumi config set --secret {name}`")
            )
        elif values[name] is not None and key not in secret_keys:
            problems.append(Problem(file, key, "is stored in plain text: set it with `pulumi config set --secret`"))
    return problems


def _decode(value: str) -> Any:
    """Pulumi passes structured config as JSON text and scalars as plain text."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _teams(teams_dir: Path, root: Path, problems: list[Problem]) -> tuple[tuple[Team, ...], dict[str, str]]:
    """Every `stacks/teams/*.yaml`, in name order so the result never depends on the file system."""
    teams: list[Team] = []
    claimed: dict[str, str] = {}
    for path in sorted(teams_dir.glob("*.yaml")):
        file = paths.relative(path, root)
        team = _team(path, file, problems)
        if team is None:
            continue
        if team.name in claimed:
            problems.append(
                Problem(
                    file,
                    "name",
                    f"team '{team.name}' is already claimed by {claimed[team.name]}; "
                    "pick another name or merge the files",
                )
            )
            continue
        claimed[team.name] = file
        teams.append(team)
    return tuple(sorted(teams, key=lambda t: t.name)), claimed


def _team(path: Path, file: str, problems: list[Problem]) -> Team | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(file, "", f"cannot read the file: {error}"))
        return None
    team, found = _parse_team(file, text)
    problems += found
    return team


@functools.lru_cache(maxsize=4096)
def _parse_team(file: str, text: str) -> tuple[Team | None, tuple[Problem, ...]]:
    """A team file's model or its problems; cached because kfvs validates before the program reads again."""
    try:
        raw = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (libyaml's when present)
    except yaml.YAMLError as error:
        return None, (Problem(file, "", f"malformed YAML: {_yaml_reason(error)}"),)
    try:
        return Team.model_validate(raw if raw is not None else {}), ()
    except ValidationError as error:
        return None, tuple(problems_from(error, Team, file))


def _yaml_reason(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)
