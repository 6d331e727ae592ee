"""Generated environments: the dev stack with N teams, each with a profile, a GPU node pool and GPU VMs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from infra import paths

_COPIED = ("Pulumi.yaml", "pyproject.toml", ".gitignore", "infra", "components", "policies")


def environment(root: Path, teams: int) -> Path:
    """A project copy under `root` whose dev stack carries `teams` generated team files (plus the examples)."""
    project = root / f"teams-{teams}"
    project.mkdir(parents=True)
    for name in _COPIED:
        source = paths.PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / name)
    (project / "stacks" / "teams").mkdir(parents=True)
    for stack in paths.PROJECT_ROOT.glob("stacks/Pulumi.*.yaml"):
        shutil.copy2(stack, project / "stacks" / stack.name)
    # The example teams stay: the dev stack's own GPU pools belong to them.
    for example in (paths.PROJECT_ROOT / "stacks" / "teams").glob("*.yaml"):
        shutil.copy2(example, project / "stacks" / "teams" / example.name)
    for i in range(teams):
        (project / "stacks" / "teams" / f"team-{i:03d}.yaml").write_text(yaml.safe_dump(_team(i), sort_keys=False))
    _give_quotas(project, teams)
    return project


def _give_quotas(project: Path, teams: int) -> None:
    """Every generated team gets a quota that fits its request, as a platform team would grant it."""
    path = project / "policies" / "quotas" / "config" / "dev.json"
    config = json.loads(path.read_text())
    quotas = config["team-quotas"]
    quotas["environmentGpus"] += 4 * teams
    for i in range(teams):
        quotas["teams"][f"team-{i:03d}"] = {
            "gpus": 4,
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
        "members": {"users": [f"member{i}@example.internal"], "groups": [f"ml-{name}"]},
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
