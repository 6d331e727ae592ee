"""The `kfvs` command: plan, diff and validate a stack offline."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from infra import paths
from infra.errors import ConfigError
from infra.kfvs import diff as plan_diff
from infra.kfvs import fresh as first_preview
from infra.kfvs import kustomize, options, pr, render, rendering, secrets, team
from infra.kfvs.check import mandatory, policy_packs
from infra.kfvs.environments import layer_stacks
from infra.kfvs.lint import cli_support
from infra.kfvs.lint import lint as lint_platform
from infra.kfvs.plan import build_plan, to_json
from infra.kfvs.progress import Progress
from infra.kfvs.run import judge_stack, plan_stack, validate_stack
from infra.kfvs.versions import versions_table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no `<bool>` type beside flags, and no boxes in CI logs
    context_settings={"terminal_width": 100, "max_content_width": 100},
    help="Plan, diff and validate kubeflow-vsphere stacks offline: no vCenter, cluster or Pulumi CLI needed.",
    epilog=f"Stacks here: {options.stacks_here()}.",
)

EXIT_CONFIG = 1
"""Exit status when the configuration (or a revision's) is wrong."""

Stack = Annotated[
    str,
    typer.Argument(
        metavar="STACK",
        help=f"one of: {options.stacks_here()}; an environment stands for its layers' stacks, in `pulumi up` order",
    ),
]


def _fail(error: Exception) -> typer.Exit:
    print(str(error), file=sys.stderr)
    return typer.Exit(EXIT_CONFIG)


@app.command(no_args_is_help=True)
def plan(
    stack: Stack,
    format_: Annotated[
        options.Format | None,
        options.format_option("text: tree and totals; json: the plan contract; markdown: a pull-request comment"),
    ] = None,
    json_: options.JsonFlag = False,
    markdown: options.MarkdownFlag = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="play the first `pulumi preview` of STACK as an empty stack and name each hazard; "
            "exit 5 if one stops the preview, 6 if objects would be hidden from it",
        ),
    ] = False,
) -> None:
    """Print what `pulumi up` would create for STACK."""
    chosen = options.choose_format(format_, options.Format.text, json=json_, markdown=markdown)
    if fresh:
        _plan_fresh(stack, chosen)
        return
    try:
        result = plan_stack(stack, policies=True)
    except ConfigError as error:
        raise _fail(error) from None
    if chosen is options.Format.json:
        sys.stdout.write(to_json(result))
    elif chosen is options.Format.markdown:
        sys.stdout.write(render.markdown(result))
    else:
        sys.stdout.write(render.text(result))


def _plan_fresh(stack: str, chosen: options.Format) -> None:
    """Each layer's first preview, in `pulumi up` order; the exit status is the worst of them."""
    try:
        previews = [first_preview.fresh_stack(name) for name in layer_stacks(stack)]
    except ConfigError as error:
        raise _fail(error) from None
    for preview in previews:
        forms = {options.Format.json: preview.as_json, options.Format.markdown: preview.markdown}
        sys.stdout.write(forms.get(chosen, preview.text)())
    worst = max(p.exit_status for p in previews)
    if worst:
        raise typer.Exit(worst)


@app.command(no_args_is_help=True)
def diff(
    stack: Stack,
    base: Annotated[str, typer.Option("--base", help="git revision to compare against, e.g. origin/main")],
    format_: Annotated[
        options.Format | None,
        options.format_option("text: for a terminal; json: for scripts; markdown: a pull-request comment"),
    ] = None,
    markdown: options.MarkdownFlag = False,
) -> None:
    """Compare STACK's plan in the working tree with its plan at a base revision."""
    chosen = options.choose_format(format_, options.Format.text, markdown=markdown)
    try:
        head = plan_stack(stack)
        old = plan_diff.plan_revision(stack, base)
    except (ConfigError, plan_diff.BaseRevisionError) as error:
        raise _fail(error) from None
    result = plan_diff.diff_plans(old, head)
    forms = {options.Format.text: plan_diff.text, options.Format.markdown: plan_diff.markdown}
    sys.stdout.write(forms.get(chosen, render.diff_json)(result, stack, base))


@app.command("pr-comment")
def pr_comment(
    base: Annotated[str, typer.Option("--base", help="the pull request's base, e.g. origin/main")],
    format_: Annotated[
        options.Format | None,
        options.format_option("markdown (default): the comment; text: for a terminal; json: for scripts"),
    ] = None,
) -> None:
    """The pull-request comment for every stack the change touches; exit 3 on a mandatory violation.

    Progress goes to stderr, one line per step (coloured on a terminal, plain in a pipe or under NO_COLOR).
    """
    chosen = options.choose_format(format_, options.Format.markdown)
    root = paths.PROJECT_ROOT
    steps = Progress("pr-comment")
    try:
        changed = pr.changed_files(root, base)
        stacks = pr.affected_stacks(changed, paths.list_stacks(root), pr.team_environments(root, base, changed))
        steps.step(f"{len(stacks)} stacks touched against {base}" + (f": {', '.join(stacks)}" if stacks else ""))
        reports = []
        for i, stack in enumerate(stacks, 1):
            steps.step("planning and judging the change", stack, i, len(stacks))
            _, recording, verdicts = judge_stack(stack)
            head = build_plan(recording, [])
            steps.step(f"planning the base {base}", stack, i, len(stacks))
            old = plan_diff.plan_revision(stack, base)
            reports.append(pr.StackReport(stack, plan_diff.diff_plans(old, head), verdicts))
    except (ConfigError, plan_diff.BaseRevisionError) as error:
        raise _fail(error) from None
    blocking = sum(len(mandatory(r.verdicts)) for r in reports)
    steps.done(f"{len(reports)} stacks compared; {blocking} mandatory violations")
    forms = {options.Format.text: render.reports_text, options.Format.json: render.reports_json}
    sys.stdout.write(forms.get(chosen, pr.render_comment)(reports, base))
    if any(mandatory(r.verdicts) for r in reports):
        raise typer.Exit(EXIT_POLICY)


@app.command()
def codeowners() -> None:
    """Print CODEOWNERS (platform team on code and stacks, each team on its own file)."""
    sys.stdout.write(pr.codeowners())


EXIT_POLICY = 3
"""Exit status when a mandatory policy is violated."""


@app.command(no_args_is_help=True)
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


@app.command(no_args_is_help=True)
def validate(stack: Stack) -> None:
    """Check STACK's configuration and every team file; print each problem with its file and key.

    Secure values still holding the examples' placeholders are a warning on stderr, not an error: kfvs plans
    with them, `pulumi preview` cannot decrypt them.
    """
    try:
        settings = validate_stack(stack)
        warnings = [secrets.placeholder_warning(name, secrets.stack_secrets(name)) for name in layer_stacks(stack)]
    except ConfigError as error:
        raise _fail(error) from None
    print(f"{stack}: configuration is valid ({len(settings.teams)} teams)")
    for warning in filter(None, warnings):
        print(warning, file=sys.stderr)


EXIT_SECRETS = 4
"""Exit status of `kfvs secrets` when a secret the stack needs is missing, a placeholder or in plain text."""


@app.command("secrets")
def secrets_(
    stack: Annotated[str | None, typer.Argument(help=f"one of: {options.stacks_here()}", show_default=False)] = None,
    format_: Annotated[
        options.Format | None, options.format_option("text (default), json, or markdown: the README's checklist")
    ] = None,
) -> None:
    """Each secret STACK needs before its first `pulumi up`: set, a placeholder, or missing (exit 4 unless all set).

    Without STACK, `--format markdown` prints the checklist of every stack (the README's table).
    """
    chosen = options.choose_format(format_, options.Format.text)
    if stack is None or chosen is options.Format.markdown:
        if stack is not None or chosen is not options.Format.markdown:
            raise typer.BadParameter("name a stack, or ask for the checklist with --format markdown alone")
        sys.stdout.write(secrets.checklist())
        return
    try:
        found = {name: secrets.stack_secrets(name) for name in layer_stacks(stack)}
    except ConfigError as error:
        raise _fail(error) from None
    for name, statuses in found.items():
        sys.stdout.write(
            secrets.as_json(name, statuses) if chosen is options.Format.json else secrets.text(name, statuses)
        )
    if not all(s.ready for statuses in found.values() for s in statuses):
        raise typer.Exit(EXIT_SECRETS)


@app.command()
def versions() -> None:
    """Print the table of pinned upstream artifacts (the README's table is this output)."""
    sys.stdout.write(versions_table())


@app.command("render")
def render_(  # noqa: PLR0917 - typer reads each option from a parameter
    stack: Stack,
    format_: Annotated[
        rendering.OutputFormat,
        typer.Option("--format", "-f", help="yaml: a YAML stream; json: a v1 List", case_sensitive=False),
    ] = rendering.OutputFormat.yaml,
    mirror: Annotated[
        Path | None,
        typer.Option(
            "--mirror",
            envvar=kustomize.MIRROR_ENV,
            help="git mirror folder: https://github.com/<org>/<repo> is fetched from <DIR>/<org>/<repo>.git",
        ),
    ] = None,
    summary_only: Annotated[
        bool, typer.Option("--summary", help="print only the summary (on stdout), not the objects")
    ] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="rebuild remote directories the cache holds")] = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="list a directory kustomize cannot build as not rendered, and go on")
    ] = False,
) -> None:
    """Print every object STACK puts on its clusters (kustomize directories built with real kustomize, plus the
    plan's own objects) on stdout; the summary per component and what was not rendered go to stderr."""
    try:
        result = rendering.render_stack(stack, mirror_dir=mirror, refresh=refresh, keep_going=keep_going)
    except (ConfigError, rendering.RenderError, kustomize.KustomizeError, kustomize.MirrorError) as error:
        raise _fail(error) from None
    if summary_only:
        sys.stdout.write(rendering.summary(result))
        return
    sys.stdout.write(rendering.as_json(result) if format_ is rendering.OutputFormat.json else rendering.as_yaml(result))
    sys.stderr.write(rendering.summary(result))


EXIT_LINT = 4
"""Exit status of `kfvs lint` when it finds anything."""


class LintFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("lint", no_args_is_help=True)
def lint_(  # noqa: PLR0917 - typer reads each option from a parameter
    stack: Stack,
    manifests: Annotated[
        list[Path] | None,
        typer.Argument(metavar="MANIFEST", help="YAML files applied after the platform (a team's workloads)"),
    ] = None,
    format_: Annotated[
        LintFormat,
        typer.Option("--format", "-f", help="text: one finding a line; json: for scripts", case_sensitive=False),
    ] = LintFormat.text,
    mirror: Annotated[
        Path | None,
        typer.Option(
            "--mirror",
            envvar=kustomize.MIRROR_ENV,
            help="git mirror folder: https://github.com/<org>/<repo> is fetched from <DIR>/<org>/<repo>.git",
        ),
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="lint what renders when kustomize cannot build a directory")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="exit 4 on `unverified` findings too (what lint could not see)")
    ] = False,
) -> None:
    """Check STACK's rendered platform (and MANIFESTs applied after it) as the API server and its controllers
    would: schema, pod-security, references, ordering, rbac, duplicates. Exit 4 on any finding (`unverified`
    ones, which name what lint could not render, count only with --strict); a summary goes to stderr."""
    try:
        extra = cli_support.read_manifests(manifests or [])
        result = rendering.render_stack(stack, mirror_dir=mirror, keep_going=keep_going)
    except (ConfigError, rendering.RenderError, kustomize.KustomizeError, kustomize.MirrorError) as error:
        raise _fail(error) from None
    findings = lint_platform(result, extra)
    json_ = format_ is LintFormat.json
    sys.stdout.write(cli_support.as_json(stack, findings) if json_ else cli_support.text(findings))
    sys.stderr.write(cli_support.summary(stack, result, findings))
    if cli_support.blocking(findings, strict=strict):
        raise typer.Exit(EXIT_LINT)


team_app = typer.Typer(no_args_is_help=True, help="Onboard a team, and see what a team may choose.")
app.add_typer(team_app, name="team")


@team_app.command("new")
def team_new(  # noqa: PLR0917 - typer reads each option from a parameter
    name: Annotated[str, typer.Argument(help="the team's name, a DNS label: its profile and namespace")],
    env: Annotated[list[str], typer.Option("--env", help="an environment (stack) the team joins; repeat for more")],
    owner: Annotated[list[str], typer.Option("--owner", help="e-mail of an owner; the first owns the profile")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="a readable name")] = None,
    member: Annotated[list[str] | None, typer.Option("--member", help="e-mail of a contributor (edit)")] = None,
    cpu: Annotated[int, typer.Option("--cpu", min=0, help="profile quota: vCPU")] = 8,
    memory_gib: Annotated[int, typer.Option("--memory-gib", min=0, help="profile quota: memory GiB")] = 32,
    gpus: Annotated[int, typer.Option("--gpus", min=0, help="profile quota: GPUs for notebooks and jobs")] = 0,
    storage_gib: Annotated[int, typer.Option("--storage-gib", min=0, help="profile quota: storage GiB")] = 100,
    gpu_node_pool: Annotated[
        str | None, typer.Option("--gpu-node-pool", help="a vGPU VM class: the team's own GPU node pool")
    ] = None,
    gpu_node_pool_replicas: Annotated[
        int, typer.Option("--gpu-node-pool-replicas", min=1, help="nodes in that pool")
    ] = 1,
    allow_vm_class: Annotated[
        list[str] | None, typer.Option("--allow-vm-class", help="a VM class the budget also allows; repeatable")
    ] = None,
) -> None:
    """Onboard a team: its file, its budget in each environment and CODEOWNERS, in one step.

    Writes stacks/teams/NAME.yaml, NAME's budget in each --env's policies/quotas/config/<env>.json (sized to
    what the file asks for there) and .github/CODEOWNERS. Refuses to overwrite anything of an existing team.
    """
    request = team.NewTeam(
        name=name,
        environments=env,
        owners=owner,
        display_name=display_name,
        users=member or [],
        cpu=cpu,
        memory_gib=memory_gib,
        gpus=gpus,
        storage_gib=storage_gib,
        gpu_node_pool=gpu_node_pool,
        gpu_node_pool_replicas=gpu_node_pool_replicas,
        allow_vm_classes=allow_vm_class or [],
    )
    try:
        done = team.new_team(request, paths.PROJECT_ROOT)
    except ConfigError as error:
        raise _fail(error) from None
    sys.stdout.write(done.summary())


@team_app.command("options")
def team_options(
    stack: Stack,
    name: Annotated[str | None, typer.Option("--team", help="only what this team's budget allows")] = None,
) -> None:
    """What a team may choose: VM classes (GPUs, vCPU, memory), vGPU profiles, images, storage classes."""
    try:
        sys.stdout.write(team.choices(stack, name, paths.PROJECT_ROOT))
    except ConfigError as error:
        raise _fail(error) from None


if __name__ == "__main__":
    app()
