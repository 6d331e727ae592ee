"""The `kfvs` command: plan, diff and validate a stack offline."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from infra import paths
from infra.errors import ConfigError
from infra.kfvs import diff as plan_diff
from infra.kfvs import pr, render
from infra.kfvs.check import mandatory, policy_packs
from infra.kfvs.plan import build_plan, to_json
from infra.kfvs.run import judge_stack, plan_stack, validate_stack
from infra.kfvs.versions import versions_table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Plan, diff and validate kubeflow-vsphere stacks offline: no vCenter, cluster or Pulumi CLI needed.",
)

EXIT_CONFIG = 1
"""Exit status when the configuration (or a revision's) is wrong."""

Stack = Annotated[str, typer.Argument(help="stack name: stacks/Pulumi.<stack>.yaml")]


def _fail(error: Exception) -> typer.Exit:
    print(str(error), file=sys.stderr)
    return typer.Exit(EXIT_CONFIG)


@app.command()
def plan(
    stack: Stack,
    json_: Annotated[bool, typer.Option("--json", help="the plan contract as JSON")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown for a pull-request comment")] = False,
) -> None:
    """Print what `pulumi up` would create for STACK."""
    try:
        result = plan_stack(stack, policies=True)
    except ConfigError as error:
        raise _fail(error) from None
    if json_:
        sys.stdout.write(to_json(result))
    elif markdown:
        sys.stdout.write(render.markdown(result))
    else:
        sys.stdout.write(render.text(result))


@app.command()
def diff(
    stack: Stack,
    base: Annotated[str, typer.Option("--base", help="git revision to compare against, e.g. origin/main")],
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown for a pull-request comment")] = False,
) -> None:
    """Compare STACK's plan in the working tree with its plan at a base revision."""
    try:
        head = plan_stack(stack)
        old = plan_diff.plan_revision(stack, base)
    except (ConfigError, plan_diff.BaseRevisionError) as error:
        raise _fail(error) from None
    result = plan_diff.diff_plans(old, head)
    sys.stdout.write((plan_diff.markdown if markdown else plan_diff.text)(result, stack, base))


@app.command("pr-comment")
def pr_comment(
    base: Annotated[str, typer.Option("--base", help="the pull request's base, e.g. origin/main")],
) -> None:
    """The pull-request comment for every stack the change touches; exit 3 on a mandatory violation."""
    root = paths.PROJECT_ROOT
    try:
        changed = pr.changed_files(root, base)
        stacks = pr.affected_stacks(changed, paths.list_stacks(root), pr.team_environments(root, base, changed))
        reports = []
        for stack in stacks:
            _, recording, verdicts = judge_stack(stack)
            head = build_plan(recording, [])
            old = plan_diff.plan_revision(stack, base)
            reports.append(pr.StackReport(stack, plan_diff.diff_plans(old, head), verdicts))
    except (ConfigError, plan_diff.BaseRevisionError) as error:
        raise _fail(error) from None
    sys.stdout.write(pr.render_comment(reports, base))
    if any(mandatory(r.verdicts) for r in reports):
        raise typer.Exit(EXIT_POLICY)


@app.command()
def codeowners() -> None:
    """Print CODEOWNERS (platform team on code and stacks, each team on its own file)."""
    sys.stdout.write(pr.codeowners())


EXIT_POLICY = 3
"""Exit status when a mandatory policy is violated."""


@app.command()
def check(stack: Stack) -> None:
    """Judge STACK's plan with every policy pack, as `pulumi preview --policy-pack` would."""
    try:
        settings, _, verdicts = judge_stack(stack)
    except ConfigError as error:
        raise _fail(error) from None
    packs = ", ".join(p.name for p in policy_packs())
    for v in verdicts:
        print(f"[{v.level}] {v.pack}/{v.policy}: {v.message}" + (f"\n    {v.urn}" if v.urn else ""))
    blocking = mandatory(verdicts)
    print(f"{stack}: {len(verdicts)} violations ({len(blocking)} mandatory) from {packs}; {len(settings.teams)} teams")
    if blocking:
        raise typer.Exit(EXIT_POLICY)


@app.command()
def validate(stack: Stack) -> None:
    """Check STACK's configuration and every team file; print each problem with its file and key."""
    try:
        settings = validate_stack(stack)
    except ConfigError as error:
        raise _fail(error) from None
    print(f"{stack}: configuration is valid ({len(settings.teams)} teams)")


@app.command()
def versions() -> None:
    """Print the table of pinned upstream artifacts (the README's table is this output)."""
    sys.stdout.write(versions_table())


if __name__ == "__main__":
    app()
