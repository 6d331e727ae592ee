"""Where the project's files live: always relative to Pulumi.yaml, never the working directory."""

from __future__ import annotations

from pathlib import Path

from policies.conventions import environment_of_stack

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_NAME = "kubeflow-vsphere"
STACKS_DIR = PROJECT_ROOT / "stacks"
TEAMS_DIR = STACKS_DIR / "teams"


def stack_file(stack: str, root: Path = PROJECT_ROOT) -> Path:
    """The configuration file of one stack (Pulumi's `stackConfigDir` is `stacks`)."""
    return root / "stacks" / f"Pulumi.{stack}.yaml"


def relative(path: Path, root: Path = PROJECT_ROOT) -> str:
    """A path as users see it in error messages: relative to the project root."""
    if path.is_relative_to(root):
        # Lexically inside: no file-system round trip (called once per team file, twice per plan).
        return path.relative_to(root).as_posix()
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def list_stacks(root: Path = PROJECT_ROOT) -> list[str]:
    """Stack names that have a file under stacks/."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (root / "stacks").glob("Pulumi.*.yaml"))


def list_environments(root: Path = PROJECT_ROOT) -> list[str]:
    """The environments team files and policy configs name: each layered pair of stacks (`dev-infra`,
    `dev-platform`) is its environment (`dev`), any other stack its own."""
    return sorted({environment_of_stack(s) for s in list_stacks(root)})
