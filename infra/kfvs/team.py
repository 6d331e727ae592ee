"""Teams: onboarding one in a single step (`kfvs team new`), what a team may choose (`kfvs team options`),
and each team's budget next to its use, by source (`ledger`, for the plan's per-team table).

A team's budget is the platform team's (policies/quotas/config/<stack>.json, the quota pack's config);
its requests are its own (stacks/teams/<team>.yaml). `team new` writes both from one command, sized so
that the new team passes `kfvs check` as written, and regenerates .github/CODEOWNERS.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra import paths
from infra.crosscheck import storage_class_name
from infra.errors import ConfigError, Problem
from infra.kfvs import pr
from infra.kfvs.run import record_stack, validate_stack
from infra.models.compute import VgpuPool
from infra.models.team import Team
from infra.settings import Settings
from infra.validation import problems_from
from policies.usage import SOURCES, Resource, Usage, plan_usage, team_usage

QUOTA_POLICY = "team-quotas"
"""The quota pack's one policy; its config holds every team's budget."""

DIMENSIONS: tuple[tuple[str, str, Callable[[Usage], float]], ...] = (
    ("gpus", "GPUs", lambda u: u.gpus),
    ("vcpu", "vCPU", lambda u: u.vcpu),
    ("memoryGiB", "memory GiB", lambda u: u.memory_gib),
    ("storageGiB", "storage GiB", lambda u: u.storage_gib),
)
"""(budget key, column heading, what a team holds): the budget keys of policies/quotas/config/<stack>.json."""


def budgets_path(stack: str, root: Path = paths.PROJECT_ROOT) -> Path:
    """The platform team's budgets for a stack: the quota pack's policy config."""
    return root / "policies" / "quotas" / "config" / f"{stack}.json"


def read_budgets(stack: str, root: Path = paths.PROJECT_ROOT) -> dict[str, Any]:
    """The `team-quotas` block of the stack's budgets file ({} when there is no file)."""
    path = budgets_path(stack, root)
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError([Problem(paths.relative(path, root), "", f"malformed JSON: {error}")]) from None
    block = document.get(QUOTA_POLICY) if isinstance(document, dict) else None
    return block if isinstance(block, dict) else {}


# --- budget next to use ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamLedger:
    """One team in one stack: its budget (None when the budgets file has no entry for it) and what it holds,
    in total and by source (`policies.usage.SOURCES`: profile quota, GPU node pool, GPU VMs, stack-level
    pools). Amounts are keyed by the budget keys of DIMENSIONS."""

    team: str
    budget: dict[str, float] | None
    use: dict[str, float]
    by_source: dict[str, dict[str, float]]
    vm_classes: tuple[str, ...] = ()
    vgpu_profiles: tuple[str, ...] = ()
    allowed_vm_classes: tuple[str, ...] = ()
    allowed_vgpu_profiles: tuple[str, ...] = ()

    def left(self) -> dict[str, float]:
        """Budget minus use per dimension (negative when over); all zero-budget when there is no entry."""
        budget = self.budget or {}
        return {key: budget.get(key, 0) - self.use.get(key, 0) for key, _, _ in DIMENSIONS}


def ledger(
    stack: str,
    resources: Iterable[Mapping[str, Any]],
    teams: Iterable[str] = (),
    root: Path = paths.PROJECT_ROOT,
) -> dict[str, TeamLedger]:
    """Every team's budget and use in `stack`, from the plan's resources (the plan contract's `resources`:
    `type`, `urn`, `inputs`) and policies/quotas/config/<stack>.json, counted by the quota policy's own rules.
    Teams come from `teams`, the budgets file and the resources alike, in name order."""
    usage = team_usage(Resource(str(r["type"]), str(r["urn"]), r.get("inputs") or {}) for r in resources)
    budgets: Mapping[str, Mapping[str, Any]] = read_budgets(stack, root).get("teams") or {}
    names = sorted(set(teams) | set(budgets) | set(usage))
    return {name: _ledger(name, usage.get(name, Usage()), budgets.get(name)) for name in names}


def _ledger(team: str, held: Usage, budget: Mapping[str, Any] | None) -> TeamLedger:
    return TeamLedger(
        team=team,
        budget=None if budget is None else {key: _num(budget.get(key, 0)) for key, _, _ in DIMENSIONS},
        use={key: _num(measure(held)) for key, _, measure in DIMENSIONS},
        by_source={
            source: {key: _num(measure(held.sources[source])) for key, _, measure in DIMENSIONS}
            for source in SOURCES
            if source in held.sources
        },
        vm_classes=tuple(sorted(held.vm_classes)),
        vgpu_profiles=tuple(sorted(held.vgpu_profiles)),
        allowed_vm_classes=tuple(str(c) for c in (budget or {}).get("vmClasses") or []),
        allowed_vgpu_profiles=tuple(str(p) for p in (budget or {}).get("vgpuProfiles") or []),
    )


def _num(value: Any) -> float:
    number = float(value) if isinstance(value, int | float) else 0.0
    return int(number) if number.is_integer() else round(number, 3)


# --- kfvs team new -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTeam:
    """What `kfvs team new` was asked for; the same request in every environment named."""

    name: str
    environments: Sequence[str]
    owners: Sequence[str]
    display_name: str | None = None
    users: Sequence[str] = ()
    cpu: int = 8
    memory_gib: int = 32
    gpus: int = 0
    storage_gib: int = 100
    volumes: int = 10
    gpu_node_pool: str | None = None
    gpu_node_pool_replicas: int = 1
    allow_vm_classes: Sequence[str] = ()


@dataclass
class Onboarded:
    """What `team new` wrote: files relative to the project root, and each environment's budget entry."""

    team: str
    files: list[str] = field(default_factory=list[str])
    budgets: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])

    def summary(self) -> str:
        lines = [f"wrote {f}" for f in self.files]
        for stack, budget in self.budgets.items():
            lines.append(f"  {paths.relative(budgets_path(stack), paths.PROJECT_ROOT)}: {_budget_text(budget)}")
        lines += [
            "next: check each environment, then open a pull request with these files:",
            *(f"  kfvs validate {s} && kfvs check {s}" for s in self.budgets),
            *(f"what the team may choose: kfvs team options {s} --team {self.team}" for s in list(self.budgets)[:1]),
        ]
        return "\n".join(line for line in lines if line) + "\n"


def _budget_text(budget: Mapping[str, Any]) -> str:
    parts = [f"{key} {budget[key]}" for key, _, _ in DIMENSIONS]
    parts += [f"{key} [{', '.join(budget[key])}]" for key in ("vmClasses", "vgpuProfiles")]
    return ", ".join(parts)


def team_document(request: NewTeam) -> dict[str, Any]:
    """The team file, as a mapping in the order people read it."""
    environment: dict[str, Any] = {
        "profile": {
            "quota": {
                "cpu": request.cpu,
                "memoryGiB": request.memory_gib,
                "gpus": request.gpus,
                "storageGiB": request.storage_gib,
                "volumes": request.volumes,
            },
            "notebookDefaults": {"cpu": 0.5, "memoryGiB": 2},
        }
    }
    if request.gpu_node_pool:
        environment["gpuNodePool"] = {"vmClass": request.gpu_node_pool, "replicas": request.gpu_node_pool_replicas}
    document: dict[str, Any] = {"name": request.name}
    if request.display_name:
        document["displayName"] = request.display_name
    document["owners"] = list(request.owners)
    if request.users:
        document["members"] = {"users": list(request.users)}
    document["environments"] = dict.fromkeys(request.environments, environment)
    return document


class _TeamDumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as the team files are written by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 - every environment written out in full
        return True


def team_yaml(request: NewTeam) -> str:
    header = (
        f"# Team file: owned by the {request.name} team (see CODEOWNERS). Written by `kfvs team new`; change it by\n"
        "# pull request. Its budget is the platform team's: policies/quotas/config/<stack>.json.\n"
    )
    body = yaml.dump(team_document(request), Dumper=_TeamDumper, sort_keys=False, default_flow_style=False)
    return header + body


def new_team(request: NewTeam, root: Path = paths.PROJECT_ROOT) -> Onboarded:
    """Write the team file, its budget in each environment and CODEOWNERS; ConfigError (nothing written,
    or everything put back) when any part cannot be done."""
    team_path = root / "stacks" / "teams" / f"{request.name}.yaml"
    file = paths.relative(team_path, root)
    _preflight(request, team_path, root)
    budget_texts = {env: budgets_path(env, root).read_text(encoding="utf-8") for env in request.environments}
    team_path.write_text(team_yaml(request), encoding="utf-8")
    try:
        budgets = {env: _sized_budget(request, env, root) for env in request.environments}
        done = Onboarded(team=request.name, files=[file])
        for env, budget in budgets.items():
            path = budgets_path(env, root)
            path.write_text(_with_team(budget_texts[env], request.name, budget), encoding="utf-8")
            done.files.append(paths.relative(path, root))
            done.budgets[env] = budget
        owners = root / ".github" / "CODEOWNERS"
        owners.parent.mkdir(parents=True, exist_ok=True)
        owners.write_text(pr.codeowners(root), encoding="utf-8")
        done.files.append(paths.relative(owners, root))
    except BaseException:
        team_path.unlink(missing_ok=True)
        for env, text in budget_texts.items():
            budgets_path(env, root).write_text(text, encoding="utf-8")
        raise
    return done


def _preflight(request: NewTeam, team_path: Path, root: Path) -> None:
    """Everything that can be judged before a file is written: the team file as the loader would judge it,
    the environments, and that nothing of this team exists yet."""
    file = paths.relative(team_path, root)
    problems: list[Problem] = []
    try:
        Team.model_validate(team_document(request))
    except ValidationError as error:
        problems += problems_from(error, Team, file)
    stacks = paths.list_environments(root)
    if not request.environments:
        problems.append(
            Problem(file, "environments", "name at least one with --env; environments: " + ", ".join(stacks))
        )
    if team_path.exists():
        problems.append(Problem(file, "", "already exists: edit it instead of creating the team again"))
    for other, name in _claimed_names(root).items():
        if name == request.name and other != file:
            problems.append(Problem(other, "name", f"already claims team '{request.name}': pick another name"))
    for env in request.environments:
        if env not in stacks:
            problems.append(
                Problem(file, f"environments.{env}", f"no environment '{env}'; environments: {', '.join(stacks)}")
            )
            continue
        budgets = budgets_path(env, root)
        where = paths.relative(budgets, root)
        if not budgets.is_file():
            problems.append(Problem(where, "", f"missing: the quota pack needs a budgets file for stack '{env}'"))
        elif request.name in (read_budgets(env, root).get("teams") or {}):
            problems.append(
                Problem(where, f"{QUOTA_POLICY}.teams.{request.name}", "already has a budget: left as it is")
            )
    if problems:
        raise ConfigError(problems)


def _claimed_names(root: Path) -> dict[str, str]:
    """Team names by file, for files that parse (broken ones are the loader's to report)."""
    names = {}
    for path in sorted((root / "stacks" / "teams").glob("*.yaml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(document, dict) and "name" in document:
            names[paths.relative(path, root)] = str(document["name"])
    return names


def _sized_budget(request: NewTeam, stack: str, root: Path) -> dict[str, Any]:
    """The new team's budget in `stack`: what its file asks for there, measured by the quota policy's own
    rules on the real program's plan, plus the VM classes it may pick later. Fails when the environment's
    GPUs (environmentGpus) cannot hold it beside the teams already there and the GPUs no team owns."""
    settings, recording = record_stack(stack, root)
    plan = plan_usage(Resource(r.type, r.urn, r.inputs) for r in recording.resources.values())
    usage = plan.teams
    held = usage.get(request.name, Usage())
    classes = {c.name: c for c in settings.vsphere.vm_classes}
    where = paths.relative(budgets_path(stack, root), root)
    unknown = [c for c in request.allow_vm_classes if c not in classes]
    if unknown:
        raise ConfigError(
            [
                Problem(
                    paths.relative(paths.stack_file(stack, root), root),
                    "kubeflow-vsphere:vsphere.vmClasses",
                    f"no VM class {', '.join(repr(c) for c in unknown)} (from --allow-vm-class); "
                    f"declared: {', '.join(sorted(classes))}",
                )
            ]
        )
    capacity = int(read_budgets(stack, root).get("environmentGpus", 0))
    total = plan.total_gpus()
    if total > capacity:
        free = max(0, capacity - (total - held.gpus))
        others = f"{total - held.gpus} held by the other teams and the GPUs no team owns"
        raise ConfigError(
            [
                Problem(
                    where,
                    f"{QUOTA_POLICY}.environmentGpus",
                    f"team '{request.name}' would take {held.gpus} GPUs but only {free} of {capacity} are free in "
                    f"'{stack}' ({others}): ask for fewer (--gpus, "
                    "--gpu-node-pool-replicas) or have the platform team raise environmentGpus here",
                )
            ]
        )
    vm_classes = sorted(held.vm_classes | set(request.allow_vm_classes))
    profiles = held.vgpu_profiles | {p for c in vm_classes if c in classes for p in classes[c].vgpu_devices}
    budget: dict[str, Any] = {key: math.ceil(measure(held)) for key, _, measure in DIMENSIONS}
    return {**budget, "vmClasses": vm_classes, "vgpuProfiles": sorted(profiles)}


def _with_team(text: str, team: str, budget: Mapping[str, Any]) -> str:
    """The budgets file with `teams.<team>` added last, written in the file's own indentation so that a
    diff shows the team's lines added and nothing else changed."""
    document = json.loads(text)
    document.setdefault(QUOTA_POLICY, {}).setdefault("teams", {})[team] = dict(budget)
    indent = re.search(r"\n( +)\S", text)
    return json.dumps(document, indent=len(indent.group(1)) if indent else 2) + ("\n" if text.endswith("\n") else "")


# --- kfvs team options -------------------------------------------------------------------------------------


def choices(stack: str, team: str | None = None, root: Path = paths.PROJECT_ROOT) -> str:
    """What a data-science lead may choose in `stack` (for `team`, within its budget): VM classes with their
    GPUs, vCPU and memory, vGPU profiles, images and storage classes, and where each goes in a team file."""
    settings = validate_stack(stack, root)
    budgets: Mapping[str, Mapping[str, Any]] = read_budgets(stack, root).get("teams") or {}
    known = sorted({t.name for t in settings.teams} | set(budgets))
    if team is not None and team not in known:
        raise ConfigError([Problem("--team", "", f"unknown team '{team}' in '{stack}'; teams: {', '.join(known)}")])
    budget = budgets.get(team) if team is not None else None
    allowed = None if team is None else {str(c) for c in (budget or {}).get("vmClasses") or []}
    profiles = None if team is None else {str(p) for p in (budget or {}).get("vgpuProfiles") or []}
    lines = [_choices_heading(stack, team, root)]
    if team is not None:
        lines += _budget_lines(stack, team, settings, root)
    lines += _class_lines(settings, budgets, allowed, profiles)
    lines += _namespace_lines(settings, team, allowed)
    return "\n".join(lines) + "\n"


def _choices_heading(stack: str, team: str | None, root: Path) -> str:
    budgets = paths.relative(budgets_path(stack, root), root)
    who = f"team '{team}'" if team else "each team"
    return f"What {who} may choose in '{stack}' (budgets: {budgets}; settings: stacks/Pulumi.{stack}.yaml)"


def _budget_lines(stack: str, team: str, settings: Settings, root: Path) -> list[str]:
    _, recording = record_stack(stack, root)
    resources = [{"type": r.type, "urn": r.urn, "inputs": r.inputs} for r in recording.resources.values()]
    entry = ledger(stack, resources, [t.name for t in settings.teams], root)[team]
    lines = ["", "Budget:"]
    if entry.budget is None:
        return [*lines, f"  none: team '{team}' has no entry in {paths.relative(budgets_path(stack, root), root)}"]
    rows = [["", *(h for _, h, _ in DIMENSIONS)]]
    rows.append(["budget", *(_fmt(entry.budget[k]) for k, _, _ in DIMENSIONS)])
    rows.append(["in use", *(_fmt(entry.use[k]) for k, _, _ in DIMENSIONS)])
    rows.append(["left", *(_fmt(v) for v in entry.left().values())])
    return lines + _table(rows)


def _class_lines(
    settings: Settings,
    budgets: Mapping[str, Mapping[str, Any]],
    allowed: set[str] | None,
    profiles: set[str] | None,
) -> list[str]:
    bound: dict[str, list[str]] = {}
    for ns in settings.vsphere.namespaces:
        for name in ns.vm_classes:
            bound.setdefault(name, []).append(ns.name)
    header = ["VM class", "GPUs", "vGPU profile", "vCPU", "memory GiB", "namespaces"]
    rows = [[*header, "teams allowed" if allowed is None else ""]]
    others = []
    for cls in sorted(settings.vsphere.vm_classes, key=lambda c: c.name):
        row = [
            cls.name,
            str(len(cls.vgpu_devices)),
            ", ".join(cls.vgpu_devices) or "-",
            str(cls.cpus),
            _fmt(cls.memory_mib / 1024),
            ", ".join(bound.get(cls.name, [])) or "-",
        ]
        if allowed is None:
            rows.append(
                [*row, ", ".join(t for t in sorted(budgets) if cls.name in (budgets[t].get("vmClasses") or []))]
            )
        elif cls.name in allowed and set(cls.vgpu_devices) <= (profiles or set()):
            rows.append([*row, ""])
        else:
            others.append(cls.name)
    lines = ["", "VM classes (gpuNodePool.vmClass; gpuVms.vmClass in a namespace that binds it):"]
    lines += _table(rows) if len(rows) > 1 else ["  none allowed by the team's budget"]
    if profiles is not None:
        lines += ["", f"vGPU profiles allowed: {', '.join(sorted(profiles)) or 'none'}"]
    if others:
        lines.append(f"Not in the team's budget (ask the platform team): {', '.join(others)}")
    return lines


def _namespace_lines(settings: Settings, team: str | None, allowed: set[str] | None) -> list[str]:
    """Per Supervisor namespace: the storage classes and images a team's gpuVms may name there. For one team,
    only the namespaces it may use: not another team's, and binding a VM class its budget allows."""
    libraries = {lib.name: lib for lib in settings.vsphere.content_libraries}
    images: dict[str, set[str]] = {}
    for pool in settings.vsphere.gpu_pools:
        if isinstance(pool, VgpuPool):
            images.setdefault(pool.namespace, set()).add(pool.image)
    for t in settings.teams:
        vms = t.environments.get(settings.stack)
        if vms is not None and vms.gpu_vms is not None:
            images.setdefault(vms.gpu_vms.namespace, set()).add(vms.gpu_vms.image)
    kubeflow = next((c for c in settings.clusters if settings.kubeflow and c.name == settings.kubeflow.cluster), None)
    lines = ["", "Namespaces (gpuVms.namespace, gpuVms.storageClass, gpuVms.image):"]
    usable = [
        ns
        for ns in sorted(settings.vsphere.namespaces, key=lambda n: n.name)
        if allowed is None or (ns.team in (None, team) and set(ns.vm_classes) & allowed)
    ]
    if not usable:
        lines.append("  none: no namespace binds a VM class the team's budget allows")
    for ns in usable:
        note = (
            " (the Kubeflow cluster's: gpuNodePool classes must be bound here)"
            if kubeflow and kubeflow.namespace == ns.name
            else ""
        )
        vm_libraries = [n for n in ns.content_libraries if n in libraries and libraries[n].purpose == "vm-images"]
        lines += [
            f"  {ns.name}{note}",
            f"    storage classes: {', '.join(sorted(storage_class_name(p) for p in ns.storage_policies))}",
            f"    images in use: {', '.join(sorted(images.get(ns.name, set()))) or 'none yet'}"
            + (
                f"; any VirtualMachineImage of {', '.join(vm_libraries)} (`kubectl get vmi -n {ns.name}`)"
                if vm_libraries
                else ""
            ),
        ]
    return lines


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
