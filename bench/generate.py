"""Generated environments: the dev platform with N generated teams, each with a profile, a GPU node pool and GPU
VMs, and nothing of the repository's own teams.

A benchmark compares commits, so each size must be the same work at every commit: the repository's team files
(and their budgets) come and go with onboarding, so none of them is copied, and the dev stack's own pools are
made the platform's rather than an example team's. What remains from the repository is the program and the dev
stack's platform (clusters, Kubeflow, VM classes), which is what the bench measures.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from infra import paths
from infra.kfvs.run import record_stack
from infra.layers import LAYERS, layer_stack
from policies.usage import Resource, plan_usage

STACK = "dev"
"""The stack every size plans."""

GPUS_PER_TEAM = 4
"""What one generated team asks for: a profile quota of 2, one GPU node pool replica and one GPU VM."""

_COPIED = ("Pulumi.yaml", "pyproject.toml", ".gitignore", "infra", "components", "policies")


def environment(root: Path, teams: int, source: Path = paths.PROJECT_ROOT) -> Path:
    """A copy of the project at `source`, under `root`, whose dev stack carries exactly `teams` generated teams."""
    project = root / f"teams-{teams}"
    project.mkdir(parents=True)
    for name in _COPIED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, project / name)
    _drop_other_stacks_configs(project)
    (project / "stacks" / "teams").mkdir(parents=True)
    config = _environment_config(source)
    document = {"config": {key: _platform_owned(value) for key, value in config.items()}}
    (project / "stacks" / paths.stack_file(STACK).name).write_text(yaml.safe_dump(document, sort_keys=False))
    _give_quotas(project, 0, 0)
    platform_gpus = _unowned_gpus(project)
    for i in range(teams):
        (project / "stacks" / "teams" / f"team-{i:03d}.yaml").write_text(yaml.safe_dump(_team(i), sort_keys=False))
    _give_quotas(project, teams, platform_gpus)
    return project


def _environment_config(source: Path) -> dict[str, Any]:
    """Dev's configuration as one stack: its layers' files joined, without `layer` (the one-stack layout the
    program still runs), so that one program run, and its floor, cover the whole environment."""
    config: dict[str, Any] = {}
    for layer in LAYERS:
        path = paths.stack_file(layer_stack(STACK, layer), source)
        config.update(yaml.safe_load(path.read_text(encoding="utf-8"))["config"])
    config.pop(f"{paths.PROJECT_NAME}:layer", None)
    return config


def _unowned_gpus(project: Path) -> int:
    """GPUs the platform itself runs (pools no team owns), which count against the environment's GPUs too: measured
    by the quota policy's own rules on the project's plan before any team exists."""
    _, recording = record_stack(STACK, project)
    return sum(plan_usage(Resource(r.type, r.urn, r.inputs) for r in recording.resources.values()).unowned.values())


def _drop_other_stacks_configs(project: Path) -> None:
    """Only the dev stack is copied, and a policy config of a stack that does not exist is a configuration error."""
    for config in (project / "policies").glob("*/config/*.json"):
        if config.stem != STACK:
            config.unlink()


def _platform_owned(value: Any) -> Any:
    """The value with every `team` owner removed: what an example team owned, the platform owns instead."""
    if isinstance(value, dict):
        return {k: _platform_owned(v) for k, v in value.items() if k != "team"}
    if isinstance(value, list):
        return [_platform_owned(v) for v in value]
    return value


def _give_quotas(project: Path, teams: int, platform_gpus: int) -> None:
    """The generated teams, and only they, get a quota that fits their requests, as a platform team grants it; the
    environment holds their GPUs and the platform's."""
    path = project / "policies" / "quotas" / "config" / f"{STACK}.json"
    config = json.loads(path.read_text())
    quotas = config["team-quotas"]
    quotas["environmentGpus"] = GPUS_PER_TEAM * teams + platform_gpus
    quotas["teams"] = {}
    for i in range(teams):
        quotas["teams"][f"team-{i:03d}"] = {
            "gpus": GPUS_PER_TEAM,
            "vcpu": 64,
            "memoryGiB": 512,
            "storageGiB": 1000,
            "vmClasses": ["gpu-a100-40c-16x128", "gpu-l40s-48c-16x96"],
            "vgpuProfiles": ["grid_a100-40c", "grid_l40s-48c"],
        }
    path.write_text(json.dumps(config, indent=2))


def _team(i: int) -> dict[str, object]:
    name = f"team-{i:03d}"
    return {
        "name": name,
        "owners": [f"owner{i}@example.internal"],
        "members": {"users": [f"member{i}@example.internal"]},
        "environments": {
            "dev": {
                "profile": {"quota": {"cpu": 16, "memoryGiB": 64, "gpus": 2, "storageGiB": 200, "volumes": 10}},
                "gpuNodePool": {"vmClass": "gpu-a100-40c-16x128", "replicas": 1},
                "gpuVms": {
                    "namespace": "kubeflow-dev",
                    "vmClass": "gpu-l40s-48c-16x96",
                    "image": "vmi-7c2d1e9f0a3b4c5d6",
                    "storageClass": "kubeflow-dev-gold",
                    "replicas": 1,
                },
            }
        },
    }
