"""kfvs diff: plans compared by URN, lists of named things element by element, Markdown a reviewer can read,
and a base revision planned from a git worktree."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.kfvs.diff import ABSENT, Change, diff_plans, markdown, same_code, text
from tests import yamlio
from tests.conftest import KfvsRunner, git

CELL_LIMIT = 300
"""No Markdown table cell of a diff may be longer than this many characters."""


def _plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"project": "p", "stack": "s", "resources": list(resources), "totals": {}, "policies": []}


def _res(urn: str, **inputs: Any) -> dict[str, Any]:
    return {
        "urn": urn,
        "type": "t:i:T",
        "name": urn,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "dependencies": [],
        "provider": None,
        "protect": False,
    }


def test_added_removed_changed_by_urn_with_paths() -> None:
    base = _plan(_res("a", size=1, nested={"x": 1, "y": "[secret]"}), _res("gone"))
    head = _plan(_res("a", size=2, nested={"x": 1, "y": "[secret]", "z": True}), _res("new"))
    d = diff_plans(base, head)
    assert [r["urn"] for r in d.added] == ["new"]
    assert [r["urn"] for r in d.removed] == ["gone"]
    assert d.changed == {"a": [Change("inputs.nested.z", ABSENT, True), Change("inputs.size", 1, 2)]}
    rendered = text(d, "s", "main")
    assert "1 to add, 1 to change, 1 to delete" in rendered
    assert "inputs.size: 1 => 2" in rendered
    assert "inputs.nested.z: added true" in rendered


def test_identical_plans_have_no_changes() -> None:
    plan = _plan(_res("a", size=1))
    d = diff_plans(plan, plan)
    assert d.empty
    assert "no changes against main" in markdown(d, "s", "main")


def test_diff_against_a_git_revision_shows_only_the_new_team(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    (project / "stacks/teams/speech.yaml").write_text("name: speech\nowners: [ivo@example.internal]\n")
    run = kfvs("diff", "dev", "--base", "main", "--markdown")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("#### `dev`: 1 to add, 0 to change, 0 to delete (against main)")
    assert "| + | `vsphere:index/tag:Tag` | `kubeflow-dev-tags-team-speech` |" in run.stdout
    assert run.stdout.count("| + |") == 1
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=project, capture_output=True, text=True, check=True)
    assert len(worktrees.stdout.strip().splitlines()) == 1


def test_diff_with_an_unknown_base_fails_cleanly(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    run = kfvs("diff", "dev", "--base", "no-such-ref")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "git worktree add failed: fatal: invalid reference: no-such-ref" in run.stderr


def _pool(
    name: str, replicas: int = 1, vm_class: str = "gpu-a100-40c-16x128", containerd: str = "200Gi"
) -> dict[str, Any]:
    """A machineDeployment as the workload-cluster component writes it."""
    return {
        "class": "node-pool",
        "name": name,
        "replicas": replicas,
        "metadata": {"annotations": {"run.tanzu.vmware.com/resolve-os-image": "os-name=ubuntu"}},
        "variables": {
            "overrides": [
                {"name": "vmClass", "value": vm_class},
                {
                    "name": "nodePoolVolumes",
                    "value": [
                        {"name": "containerd", "mountPath": "/var/lib/containerd", "capacity": {"storage": containerd}},
                        {"name": "kubelet", "mountPath": "/var/lib/kubelet", "capacity": {"storage": "100Gi"}},
                    ],
                },
                {"name": "nodePoolTaints", "value": [{"key": "nvidia.com/gpu", "value": "present"}]},
            ]
        },
    }


def _cluster(*pools: dict[str, Any]) -> dict[str, Any]:
    return _res("cluster", spec={"topology": {"workers": {"machineDeployments": list(pools)}}})


POOLS = "inputs.spec.topology.workers.machineDeployments"


def _cells(rendered: str) -> list[str]:
    """Every cell of every Markdown table row (escaped pipes stay inside their cell)."""
    rows = [line for line in rendered.split("\n") if line.startswith("|")]
    return [cell for row in rows for cell in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_adding_one_node_pool_shows_only_that_pool() -> None:
    pools = [_pool("cpu", 3, "cpu-8x32"), _pool("gpu-a100", 2), _pool("team-vision")]
    base = _plan(_cluster(*pools))
    head = _plan(_cluster(*pools[:2], _pool("gpu-l40s", vm_class="gpu-l40s-48c-16x96"), pools[2]))
    d = diff_plans(base, head)
    assert d.changed == {
        "cluster": [
            Change(
                f"{POOLS}[name=gpu-l40s]",
                ABSENT,
                head["resources"][0]["inputs"]["spec"]["topology"]["workers"]["machineDeployments"][2],
            )
        ]
    }
    for rendered in (markdown(d, "s", "main"), text(d, "s", "main")):
        assert "gpu-l40s-48c-16x96" in rendered
        assert "team-vision" not in rendered
        assert "cpu-8x32" not in rendered
    assert max(len(c) for c in _cells(markdown(d, "s", "main"))) < CELL_LIMIT
    assert "<details><summary><code>inputs.spec.topology.workers.machineDeployments[name=gpu-l40s]</code> added" in (
        markdown(d, "s", "main")
    )


def test_a_changed_element_shows_only_its_changed_keys_at_every_depth() -> None:
    base = _plan(_cluster(_pool("cpu", 3), _pool("gpu", 2)))
    head = _plan(_cluster(_pool("cpu", 3), _pool("gpu", 4, containerd="300Gi")))
    d = diff_plans(base, head)
    volumes = f"{POOLS}[name=gpu].variables.overrides[name=nodePoolVolumes].value"
    assert d.changed["cluster"] == [
        Change(f"{POOLS}[name=gpu].replicas", 2, 4),
        Change(f"{volumes}[name=containerd].capacity.storage", "200Gi", "300Gi"),
    ]
    rendered = text(d, "s", "main")
    assert f'{volumes}[name=containerd].capacity.storage: "200Gi" => "300Gi"' in rendered
    assert "kubelet" not in rendered


def test_removed_and_reordered_elements_are_named() -> None:
    base = _plan(_cluster(_pool("a"), _pool("b"), _pool("c")))
    head = _plan(_cluster(_pool("c"), _pool("a")))
    found = diff_plans(base, head).changed["cluster"]
    assert [(c.path, c.kind) for c in found] == [
        (f"{POOLS}[name=b]", "removed"),
        (f"{POOLS} (order of names)", "changed"),
    ]
    assert found[1].old == ["a", "c"]
    assert found[1].new == ["c", "a"]


def test_lists_without_distinct_names_are_aligned_element_by_element() -> None:
    deps = [f"urn:pulumi:s::p::t::r{i}" for i in range(6)]
    base = _plan({**_res("a"), "dependencies": deps})
    head = _plan({**_res("a"), "dependencies": [*deps[:3], "urn:pulumi:s::p::t::new", *deps[3:]]})
    assert diff_plans(base, head).changed == {"a": [Change("dependencies[3]", ABSENT, "urn:pulumi:s::p::t::new")]}
    twice = [{"name": "x", "v": 1}, {"name": "x", "v": 2}]
    changed = [{"name": "x", "v": 1}, {"name": "x", "v": 3}]
    assert diff_plans(_plan(_res("a", l=twice)), _plan(_res("a", l=changed))).changed == {
        "a": [Change("inputs.l[1].v", 2, 3)]
    }


def test_a_value_that_changes_type_is_one_change() -> None:
    d = diff_plans(_plan(_res("a", v=1)), _plan(_res("a", v=True)))
    assert d.changed == {"a": [Change("inputs.v", 1, True)]}


def test_long_text_folds_as_a_line_diff_and_pipes_stay_in_their_cell() -> None:
    script = "#cloud-config\npackages: [a, b]\nruncmd:\n  - echo one | tee /tmp/x\n" + "# pad\n" * 20
    base = _plan(_res("vm", userData=script, cmd="a | b"))
    head = _plan(_res("vm", userData=script.replace("[a, b]", "[a, b, c]"), cmd="a | c"))
    rendered = markdown(diff_plans(base, head), "s", "main")
    assert "```diff\n@@ -1,4 +1,4 @@\n #cloud-config\n-packages: [a, b]\n+packages: [a, b, c]\n" in rendered
    assert '| `inputs.cmd` | `"a \\| b"` | `"a \\| c"` |' in rendered
    assert all(len(_cells(row)) == 3 for row in rendered.split("\n") if row.startswith("| `inputs"))


def test_a_fence_inside_a_value_does_not_end_the_fold() -> None:
    readme = "# notes\n```sh\nmake plan\n```\n" * 3
    rendered = markdown(diff_plans(_plan(_res("cm", data=readme)), _plan(_res("cm", data=readme + "end\n"))), "s", "m")
    assert "````diff\n" in rendered
    assert rendered.count("\n````\n") == 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=400),
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(alphabet=st.characters(), max_size=60) | st.sampled_from(["a|b", "x\ny", "`"]), inner)
    ),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(old=_json, new=_json)
def test_no_markdown_table_cell_grows_past_the_limit(old: Any, new: Any) -> None:
    d = diff_plans(_plan(_res("r", v=old)), _plan(_res("r", v=new)))
    rendered = markdown(d, "s", "main")
    assert all(len(cell) < CELL_LIMIT for cell in _cells(rendered))
    assert rendered.count("<details>") == rendered.count("</details>")
    tables = rendered.split("| input | before | after |\n|---|---|---|\n")[1:]
    for table in tables:
        rows = table.split("\n\n", 1)[0].split("\n")
        assert rows
        assert all(row.startswith("| ") and len(_cells(row)) == 3 for row in rows), rows


def test_diff_of_a_new_node_pool_against_a_git_revision(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    path = project / "stacks/Pulumi.dev-infra.yaml"
    document = yamlio.load(path.read_text())
    pools = document["config"]["kubeflow-vsphere:clusters"][0]["nodePools"]
    pools.append({**copy.deepcopy(next(p for p in pools if p.get("gpu"))), "name": "gpu-extra", "replicas": 1})
    path.write_text(yamlio.dump(document, sort_keys=False))
    run = kfvs("diff", "dev", "--base", "main", "--markdown")
    assert run.returncode == 0, run.stderr
    assert (
        "| `inputs.spec.topology.workers.machineDeployments[name=gpu-extra]` | (absent) | folded below |" in run.stdout
    )
    assert run.stdout.count("machineDeployments") == 2  # its row and its fold
    assert "team-vision" not in run.stdout
    assert max(len(c) for c in _cells(run.stdout)) < CELL_LIMIT


def _committed(project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")


def test_only_stack_team_and_policy_config_files_count_as_data(project: Path) -> None:
    _committed(project)
    assert same_code(project, "main")
    (project / "stacks/teams/speech.yaml").write_text("name: speech\nowners: [ivo@example.internal]\n")
    config = project / "policies/quotas/config/dev.json"
    config.write_text(config.read_text().replace("{", "{ ", 1))
    assert same_code(project, "main")  # a team's pull request: the same program, other data
    dashboard = project / "components/services/monitoring/dashboards/new.json"
    dashboard.write_text("{}\n")
    assert not same_code(project, "main")  # untracked, but the program may glob its folder
    dashboard.unlink()
    catalog = project / "components/catalog.py"
    catalog.write_text(catalog.read_text() + "\n# changed\n")
    assert not same_code(project, "main")
    git(project, "commit", "-qam", "code")
    assert same_code(project, "main")
    assert not same_code(project, "main~1")


def test_a_base_with_other_code_is_planned_by_its_own_code(kfvs: KfvsRunner, project: Path) -> None:
    _committed(project)
    catalog = project / "components/catalog.py"
    text = catalog.read_text()
    assert '"v26.3.3", "NVIDIA GPU Operator"' in text
    catalog.write_text(text.replace('"v26.3.3", "NVIDIA GPU Operator"', '"v26.3.4", "NVIDIA GPU Operator"'))
    run = kfvs("diff", "dev", "--base", "main")
    assert run.returncode == 0, run.stderr
    # Were the base planned by this checkout's code, both sides would pin v26.3.4 and nothing would change.
    assert 'inputs.version: "v26.3.3" => "v26.3.4"' in run.stdout


def test_a_base_that_cannot_be_planned_is_named_with_its_problem(kfvs: KfvsRunner, project: Path) -> None:
    team = project / "stacks/teams/vision.yaml"
    good = team.read_text()
    team.write_text(good + "colour: red\n")
    _committed(project)
    team.write_text(good)
    run = kfvs("diff", "dev", "--base", "main")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("planning dev at main failed:\n")
    assert "  stacks/teams/vision.yaml: colour: unknown key" in run.stderr
