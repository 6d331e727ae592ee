"""The policy floor: each pack with the same policies (names, kinds, config schemas) whose checks do
nothing, started and asked the same way. What pulumi_policy and the Analyzer protocol cost by themselves,
so `check_s - check_floor_s` is what the policies' own logic costs."""

from __future__ import annotations

import shutil
from pathlib import Path

_LAUNCHER = '''"""Bench only: the {pack} pack with every check emptied, then served by its own entry point."""

import runpy
from pathlib import Path

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from policies.{pack} import rules


def _nothing(_args, _report):
    return None


def _hollow(policy):
    kind = ResourceValidationPolicy if isinstance(policy, ResourceValidationPolicy) else StackValidationPolicy
    return kind(
        name=policy.name,
        description=policy.description,
        validate=_nothing,
        enforcement_level=policy.enforcement_level,
        config_schema=policy.config_schema,
    )


rules.POLICIES[:] = [_hollow(p) for p in rules.POLICIES]
runpy.run_path(str(Path(__file__).with_name("pack_main.py")), run_name="__main__")
'''


def hollow_path(project: Path) -> Path:
    return project.with_name(project.name + "-hollow")


def hollow_project(project: Path) -> Path:
    """A copy of `project` whose packs keep their policies' shape but check nothing."""
    hollow = hollow_path(project)
    shutil.copytree(project, hollow, ignore=shutil.ignore_patterns("__pycache__"))
    for entry in (hollow / "policies").glob("*/__main__.py"):
        entry.rename(entry.with_name("pack_main.py"))
        entry.write_text(_LAUNCHER.format(pack=entry.parent.name))
    return hollow
