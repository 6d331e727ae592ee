"""Pull requests: which stacks a change touches, and the one comment that reports them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from infra import paths
from infra.kfvs import diff as plan_diff
from infra.kfvs.check import Verdict
from infra.kfvs.git import run_git
from policies.conventions import environment_of_stack

MARKER = "<!-- kfvs-preview -->"
"""The comment's hidden mark: the workflow edits the comment carrying it instead of adding another."""

PLATFORM_OWNERS = "@example-org/kubeflow-platform"
"""The platform team's GitHub handle in CODEOWNERS; change it to your organisation's team."""

_DOCS = (".md", ".txt")


def affected_stacks(changed: Iterable[str], stacks: Sequence[str], team_envs: dict[str, set[str]]) -> list[str]:
    """Stacks a change touches: a stack file or a policy config touches its environment's stacks (each layer reads
    the other's file), a team file the stacks of the environments it names (before or after), documentation
    nothing, anything else (code, policies, lock) all."""
    touched: set[str] = set()
    for name in changed:
        path = PurePosixPath(name)
        if path.suffix in _DOCS or path.parts[:1] == (".github",):
            continue
        if path.parts[:1] == ("stacks",) and path.name.startswith("Pulumi.") and path.suffix == ".yaml":
            touched.add(environment_of_stack(path.name.removeprefix("Pulumi.").removesuffix(".yaml")))
        elif path.parts[:2] == ("stacks", "teams"):
            touched |= team_envs.get(name, set())
        elif path.parts[:1] == ("policies",) and len(path.parts) == 4 and path.parts[2] == "config":
            touched.add(environment_of_stack(path.stem))
        else:
            return sorted(stacks)
    return sorted(s for s in stacks if s in touched or environment_of_stack(s) in touched)


def team_environments(root: Path, ref: str, changed: Iterable[str]) -> dict[str, set[str]]:
    """For each changed team file, the environments it names in the working tree and at `ref`."""
    envs: dict[str, set[str]] = {}
    for name in changed:
        if not name.startswith("stacks/teams/"):
            continue
        texts = [_read(root / name), _git_show(root, ref, name)]
        envs[name] = {env for text in texts for env in _environments(text)}
    return envs


def changed_files(root: Path, ref: str) -> list[str]:
    """Files that differ from the merge base with `ref`, committed or not."""
    committed = run_git(root, "diff", "--name-only", f"{ref}...HEAD")
    if committed.returncode != 0:
        raise plan_diff.BaseRevisionError(f"git diff against {ref} failed: {committed.stderr.strip()}")
    local = [line[3:] for line in run_git(root, "status", "--porcelain").stdout.splitlines() if line]
    return sorted(set(committed.stdout.split()) | set(local))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _git_show(root: Path, ref: str, name: str) -> str:
    run = run_git(root, "show", f"{ref}:{name}")
    return run.stdout if run.returncode == 0 else ""


def _environments(text: str) -> set[str]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return set()
    envs = document.get("environments") if isinstance(document, dict) else None
    return {str(e) for e in envs} if isinstance(envs, dict) else set()


@dataclass(frozen=True)
class StackReport:
    """One stack's part of the comment."""

    stack: str
    diff: plan_diff.PlanDiff
    verdicts: Sequence[Verdict]


COMMENT_LIMIT = 65_536
"""GitHub refuses a comment longer than this many characters; the comment shrinks to fit instead."""


def render_comment(reports: Sequence[StackReport], ref: str) -> str:
    """The pull-request comment: a summary table, then each stack's changes and verdicts. When that is too long
    for GitHub, per-resource inputs go first, then the resource tables; the verdicts always stay."""
    body = ""
    for detail in plan_diff.Detail:
        body = _comment(reports, ref, detail)
        if len(body) <= COMMENT_LIMIT:
            return body
    cut = "\n\n*(cut at GitHub's comment limit)*\n"
    return body[: COMMENT_LIMIT - len(cut)] + cut


def _comment(reports: Sequence[StackReport], ref: str, detail: plan_diff.Detail) -> str:
    blocking = sum(1 for r in reports for v in r.verdicts if v.level == "mandatory")
    lines = [MARKER, "## kubeflow-vsphere preview", ""]
    if not reports:
        return "\n".join([*lines, f"No stack is touched by this change (against `{ref}`).", ""])
    verdict = "**blocked**: mandatory policy violations" if blocking else "policies pass"
    lines += [f"{len(reports)} stack(s) against `{ref}`; {verdict}.", ""]
    if detail is not plan_diff.Detail.FULL:
        left_out = "changed inputs" if detail is plan_diff.Detail.RESOURCES else "resource lists and changed inputs"
        lines += [
            f"Shortened to fit GitHub's comment limit: {left_out} left out; "
            f"`kfvs diff <stack> --base {ref}` prints them all.",
            "",
        ]
    lines += ["| stack | add | change | delete | violations |", "|---|---:|---:|---:|---:|"]
    for r in reports:
        lines.append(
            f"| `{r.stack}` | {len(r.diff.added)} | {len(r.diff.changed)} | {len(r.diff.removed)} | {len(r.verdicts)} |"
        )
    for r in reports:
        lines += ["", plan_diff.markdown(r.diff, r.stack, ref, detail).rstrip()]
        if r.verdicts:
            lines += ["", "| level | policy | message |", "|---|---|---|"]
            lines += [f"| {v.level} | {v.pack}/{v.policy} | {_cell_text(v.message)} |" for v in r.verdicts]
    return "\n".join(lines) + "\n"


def _cell_text(value: str) -> str:
    """Plain text made safe for one Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(value.split()).replace("|", "\\|")


def codeowners(root: Path = paths.PROJECT_ROOT) -> str:
    """CODEOWNERS: the platform team owns code, stacks and policies; each team owns its own file."""
    lines = [
        "# Generated by `kfvs codeowners`; a test keeps it in step with stacks/teams/.",
        f"*                      {PLATFORM_OWNERS}",
        f"/stacks/Pulumi.*.yaml  {PLATFORM_OWNERS}",
        f"/policies/             {PLATFORM_OWNERS}",
        f"/components/           {PLATFORM_OWNERS}",
        f"/infra/                {PLATFORM_OWNERS}",
    ]
    for path in sorted((root / "stacks" / "teams").glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        owners = " ".join(str(o) for o in document.get("owners") or [])
        lines.append(f"/stacks/teams/{path.name}  {owners}")
    return "\n".join(lines) + "\n"


CODEOWNERS_FILE = ".github/CODEOWNERS"
CODEOWNERS_FIX = f"kfvs codeowners > {CODEOWNERS_FILE}"
"""The command that brings CODEOWNERS back in step (`kfvs team new` runs it for a new team)."""


def codeowners_drift(root: Path = paths.PROJECT_ROOT) -> str | None:
    """None when CODEOWNERS is what `kfvs codeowners` prints; otherwise which lines differ and the command to run."""
    path = root / CODEOWNERS_FILE
    wanted = codeowners(root).splitlines()
    present = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    if present == wanted:
        return None
    missing = [line for line in wanted if line not in present]
    stale = [line for line in present if line not in wanted]
    detail = (
        "; ".join([*(f"missing '{line}'" for line in missing), *(f"stale '{line}'" for line in stale)])
        or "lines out of order"
    )
    return (
        f"{CODEOWNERS_FILE} is out of step with stacks/teams/ ({detail}): run `{CODEOWNERS_FIX}` "
        "(from the project root, with .venv/bin on the PATH) and commit the result"
    )
