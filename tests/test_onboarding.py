"""Team onboarding: the README's flow as printed, `kfvs team new`, `kfvs team options`, CODEOWNERS, and each
team's budget next to its use by source."""

from __future__ import annotations

import difflib
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra import paths
from infra.errors import ConfigError
from infra.kfvs import team
from infra.kfvs.pr import CODEOWNERS_FIX, codeowners_drift
from infra.kfvs.run import plan_stack, validate_stack
from infra.models.team import Team
from tests import examples, yamlio
from tests.conftest import KfvsRunner

README = paths.PROJECT_ROOT / "README.md"
KFVS = ".venv/bin/kfvs"


def _readme_commands() -> list[list[str]]:
    """The commands between the onboarding markers, joined across `\\` continuations."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- onboarding:begin", 1)[1].split("<!-- onboarding:end -->", 1)[0]
    code = block.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line, comments=True) for line in code.replace("\\\n", " ").splitlines()]
    return [c for c in commands if c]


def _readme_team_yaml() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Onboarding a team", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def _budgets(project: Path, stack: str) -> dict[str, object]:
    return dict(json.loads((project / f"policies/quotas/config/{stack}.json").read_text())["team-quotas"]["teams"])


def test_the_readme_onboarding_example_runs_as_printed_and_passes(kfvs: KfvsRunner, project: Path) -> None:
    commands = _readme_commands()
    assert commands, "no commands between the onboarding markers"
    assert commands[0][:3] == [KFVS, "team", "new"]
    assert {c[1] for c in commands[1:]} == {"validate", "check"}
    for command in commands:
        assert command[0] == KFVS, f"the README's example runs kfvs only: {command}"
        run = kfvs(*command[1:])
        assert run.returncode == 0, f"{shlex.join(command)}\n{run.stdout}{run.stderr}"
        if command[1] == "check":
            assert ": 0 violations (0 mandatory)" in run.stdout, run.stdout
    name = commands[0][3]
    settings = validate_stack("dev", project)
    assert name in {t.name for t in settings.teams}
    assert codeowners_drift(project) is None
    assert f"/stacks/teams/{name}.yaml  lena.park@example.internal" in (project / ".github/CODEOWNERS").read_text()


def test_the_readme_team_file_passes_validate_and_check(kfvs: KfvsRunner, project: Path) -> None:
    document = yamlio.load(_readme_team_yaml())
    Team.model_validate(document)
    (project / "stacks/teams/vision.yaml").write_text(_readme_team_yaml())
    run = kfvs("check", "dev")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "dev: 0 violations" in run.stdout


def _new(kfvs: KfvsRunner, *extra: str) -> subprocess.CompletedProcess[str]:
    return kfvs(
        "team", "new", "speech", "--env", "dev", "--env", "staging", "--owner", "lena.park@example.internal", *extra
    )


def test_team_new_writes_the_file_budgets_sized_to_it_and_codeowners(kfvs: KfvsRunner, project: Path) -> None:
    before = {s: (project / f"policies/quotas/config/{s}.json").read_text() for s in ("dev", "staging", "prod")}
    run = _new(kfvs, "--gpus", "1", "--gpu-node-pool", "gpu-a100-40c-16x128", "--allow-vm-class", "cpu-8x32")
    assert run.returncode == 0, run.stdout + run.stderr
    written = Team.model_validate(yamlio.load((project / "stacks/teams/speech.yaml").read_text()))
    assert sorted(written.environments) == ["dev", "staging"]
    assert written.environments["dev"].gpu_node_pool is not None
    # The budget is what the plan measures for the team: check passes with it, and with one GPU less it fails.
    dev = _budgets(project, "dev")["speech"]
    assert dev == {
        "gpus": 2,
        "vcpu": 24,
        "memoryGiB": 160,
        "storageGiB": 400,
        "vmClasses": ["cpu-8x32", "gpu-a100-40c-16x128"],
        "vgpuProfiles": ["grid_a100-40c"],
    }
    assert kfvs("check", "dev").returncode == 0
    # The files keep their formatting: the diff only adds the team's lines.
    for stack in ("dev", "staging"):
        after = (project / f"policies/quotas/config/{stack}.json").read_text()
        diff = list(difflib.unified_diff(before[stack].splitlines(), after.splitlines(), n=0, lineterm=""))[2:]
        removed = [line for line in diff if line.startswith("-")]
        added = [line for line in diff if line.startswith("+")]
        assert removed == [], diff
        assert len(added) == 13, diff
        assert json.loads(after)["team-quotas"]["teams"] == {
            **json.loads(before[stack])["team-quotas"]["teams"],
            "speech": _budgets(project, stack)["speech"],
        }
        assert after.endswith("}\n")
    assert (project / "policies/quotas/config/prod.json").read_text() == before["prod"]
    assert codeowners_drift(project) is None
    assert "wrote stacks/teams/speech.yaml" in run.stdout
    assert "kfvs check staging" in run.stdout


def test_a_budget_one_gpu_short_fails_check_naming_the_budgets_file(kfvs: KfvsRunner, project: Path) -> None:
    assert _new(kfvs, "--gpus", "1", "--gpu-node-pool", "gpu-a100-40c-16x128").returncode == 0
    path = project / "policies/quotas/config/dev.json"
    config = json.loads(path.read_text())
    config["team-quotas"]["teams"]["speech"]["gpus"] = 1
    path.write_text(json.dumps(config, indent=2) + "\n")
    run = kfvs("check", "dev")
    assert run.returncode == 3
    assert (
        "team 'speech' asks for 2 GPUs (profile quota 1, GPU node pool 1) but its budget is 1 GPUs; to fix, lower "
        "the request in stacks/teams/speech.yaml (the team's file), or raise teams.speech.gpus in "
        "policies/quotas/config/dev.json (the platform team's budgets)" in run.stdout
    )


def test_team_new_refuses_to_overwrite_an_existing_team(kfvs: KfvsRunner, project: Path) -> None:
    assert _new(kfvs).returncode == 0
    files = ["stacks/teams/speech.yaml", "policies/quotas/config/dev.json", "policies/quotas/config/staging.json"]
    before = {f: (project / f).read_bytes() for f in files}
    run = _new(kfvs, "--gpus", "3")
    assert run.returncode == 1
    assert "stacks/teams/speech.yaml: already exists: edit it instead" in run.stderr
    assert "policies/quotas/config/dev.json: team-quotas.teams.speech: already has a budget" in run.stderr
    assert {f: (project / f).read_bytes() for f in files} == before
    assert "Traceback" not in run.stderr


def test_team_new_refuses_a_name_another_file_claims_or_a_budget_already_there(kfvs: KfvsRunner, project: Path) -> None:
    run = kfvs("team", "new", "vision", "--env", "dev", "--owner", "x@example.internal")
    assert run.returncode == 1
    assert "stacks/teams/vision.yaml: already exists" in run.stderr
    (project / "stacks/teams/vision.yaml").rename(project / "stacks/teams/computer-vision.yaml")
    run = kfvs("team", "new", "vision", "--env", "dev", "--owner", "x@example.internal")
    assert "stacks/teams/computer-vision.yaml: name: already claims team 'vision'" in run.stderr
    assert "policies/quotas/config/dev.json: team-quotas.teams.vision: already has a budget" in run.stderr
    assert not (project / "stacks/teams/vision.yaml").exists()


def test_team_new_judges_the_file_by_the_loaders_rules_and_leaves_nothing(kfvs: KfvsRunner, project: Path) -> None:
    budgets = (project / "policies/quotas/config/dev.json").read_bytes()
    run = kfvs("team", "new", "Speech_1", "--env", "dev", "--env", "qa", "--owner", "lena")
    assert run.returncode == 1
    assert "stacks/teams/Speech_1.yaml: name: 'Speech_1' is not a" in run.stderr
    assert "stacks/teams/Speech_1.yaml: owners[0]: 'lena' is not an e-mail address" in run.stderr
    # The loader refuses the same file written by hand, with the same reason for the name.
    by_hand = project / "stacks/teams/Speech_1.yaml"
    by_hand.write_text(yamlio.dump({"name": "Speech_1", "owners": ["lena"]}))
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev", project)
    by_hand.unlink()
    reason = run.stderr.split("name: 'Speech_1' is not a", 1)[1].splitlines()[0]
    assert any(reason in p.message for p in caught.value.problems), caught.value
    assert (
        "Speech_1.yaml: environments.qa: no environment 'qa'; environments: dev, prod, sandbox, staging" in run.stderr
    )
    # What only the whole stack can judge (the class exists, carries vGPUs, is bound) is the loader's own message.
    run = _new(kfvs, "--gpu-node-pool", "cpu-8x32")
    assert run.returncode == 1
    assert "stacks/teams/speech.yaml: environments.dev.gpuNodePool.vmClass:" in run.stderr
    assert "has no vgpuDevices" in run.stderr
    assert sorted(p.name for p in (project / "stacks/teams").iterdir()) == ["nlp.yaml", "recsys.yaml", "vision.yaml"]
    assert (project / "policies/quotas/config/dev.json").read_bytes() == budgets
    assert not (project / ".github/CODEOWNERS").exists()


def test_team_new_refuses_what_the_environments_gpus_cannot_hold(kfvs: KfvsRunner, project: Path) -> None:
    budgets = (project / "policies/quotas/config/dev.json").read_bytes()
    run = kfvs("team", "new", "speech", "--env", "dev", "--owner", "lena.park@example.internal", "--gpus", "6")
    assert run.returncode == 1
    assert (
        "policies/quotas/config/dev.json: team-quotas.environmentGpus: team 'speech' would take 6 GPUs but only 3 "
        "of 20 are free in 'dev' (17 held by the other teams and the GPUs no team owns)" in run.stderr
    )
    assert not (project / "stacks/teams/speech.yaml").exists()
    assert (project / "policies/quotas/config/dev.json").read_bytes() == budgets
    assert kfvs("team", "new", "speech", "--env", "dev", "--owner", "a@example.internal", "--gpus", "3").returncode == 0


def test_a_team_added_by_hand_fails_the_codeowners_check_with_the_command_to_run(
    kfvs: KfvsRunner, project: Path
) -> None:
    (project / ".github").mkdir()
    shutil.copy2(paths.PROJECT_ROOT / ".github/CODEOWNERS", project / ".github/CODEOWNERS")
    assert codeowners_drift(project) is None
    shutil.copy2(project / "stacks/teams/recsys.yaml", project / "stacks/teams/speech.yaml")
    drift = codeowners_drift(project)
    assert drift is not None
    assert f"run `{CODEOWNERS_FIX}`" in drift
    assert "missing '/stacks/teams/speech.yaml  gus.martins@example.internal'" in drift
    # Running the command it names, as a shell would, brings the file back in step.
    command, _, target = CODEOWNERS_FIX.partition(" > ")
    assert shlex.split(command) == ["kfvs", "codeowners"]
    run = kfvs(*shlex.split(command)[1:])
    assert run.returncode == 0
    (project / target).write_text(run.stdout)
    assert codeowners_drift(project) is None


def test_codeowners_is_tracked_and_not_ignored(tmp_path: Path) -> None:
    # Judged by git itself against the repository's .gitignore, in a scratch repository.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy2(paths.PROJECT_ROOT / ".gitignore", tmp_path / ".gitignore")
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", ".github/CODEOWNERS"],
        cwd=tmp_path,
        check=False,
    )
    assert ignored.returncode == 1, ".github/CODEOWNERS is ignored by .gitignore"
    if not (paths.PROJECT_ROOT / ".git").exists():
        pytest.fail("the project is not a git checkout: cannot tell whether CODEOWNERS is tracked")
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", ".github/CODEOWNERS"],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        check=False,
    )
    assert tracked.returncode == 0, ".github/CODEOWNERS is not tracked"


def test_team_options_lists_what_the_teams_budget_allows(kfvs: KfvsRunner) -> None:
    run = kfvs("team", "options", "dev", "--team", "recsys")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert rows["cpu-8x32"][:5] == ["cpu-8x32", "0", "-", "8", "32"]
    assert "gpu-a100-40c-16x128" not in rows
    assert "Not in the team's budget (ask the platform team): gpu-a100-40c-16x128, gpu-l40s-48c-16x96" in out
    assert "vGPU profiles allowed: none" in out
    assert rows["budget"] == ["budget", "2", "32", "128", "500"]
    assert rows["in"] == ["in", "use", "1", "16", "64", "300"]
    assert rows["left"] == ["left", "1", "16", "64", "200"]
    assert "storage classes: kubeflow-dev-gold" in out
    assert "images in use: vmi-7c2d1e9f0a3b4c5d6" in out


def test_team_options_for_every_team_shows_each_class_and_who_may_use_it(kfvs: KfvsRunner) -> None:
    run = kfvs("team", "options", "dev")
    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line for line in run.stdout.splitlines() if line.startswith("  gpu-")}
    assert re.search(
        r"gpu-a100-40c-16x128\s+1\s+grid_a100-40c\s+16\s+128\s+kubeflow-dev\s+nlp, vision$", rows["gpu-a100-40c-16x128"]
    )
    assert rows["gpu-l40s-48c-16x96"].endswith("  nlp")
    unknown = kfvs("team", "options", "dev", "--team", "ghost")
    assert unknown.returncode == 1
    assert "unknown team 'ghost' in 'dev'; teams: nlp, recsys, vision" in unknown.stderr


def test_ledger_gives_each_team_its_budget_and_its_use_by_source() -> None:
    plan = examples.plan("dev")
    ledgers = team.ledger("dev", plan["resources"], plan["totals"])
    vision, nlp = ledgers["vision"], ledgers["nlp"]
    assert vision.budget is not None
    assert vision.budget["gpus"] == 10
    assert vision.use["gpus"] == 9
    assert {s: v["gpus"] for s, v in vision.by_source.items()} == {"profile": 4, "nodePool": 1, "stackPools": 4}
    assert {s: v["gpus"] for s, v in nlp.by_source.items()} == {"profile": 2, "gpuVms": 1, "stackPools": 2}
    # Totals are the plan's totals, and the sources add up to them.
    for name, entry in ledgers.items():
        for key in ("gpus", "vcpu", "memoryGiB", "storageGiB"):
            assert entry.use[key] == plan["totals"][name][key]
            assert sum(v[key] for v in entry.by_source.values()) == pytest.approx(entry.use[key])
    assert vision.left()["gpus"] == 1


def test_ledger_marks_a_team_without_a_budget(project: Path) -> None:
    shutil.copy2(project / "stacks/teams/recsys.yaml", project / "stacks/teams/speech.yaml")
    path = project / "stacks/teams/speech.yaml"
    path.write_text(path.read_text().replace("name: recsys", "name: speech"))
    plan = plan_stack("dev", project)
    entry = team.ledger("dev", plan["resources"], plan["totals"], project)["speech"]
    assert entry.budget is None
    assert entry.use["gpus"] == 1
    (project / "policies/quotas/config/dev.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"policies/quotas/config/dev.json: malformed JSON"):
        team.ledger("dev", plan["resources"], plan["totals"], project)


@settings(deadline=None)
@given(
    display=st.text(min_size=1, max_size=40).filter(str.strip),
    users=st.lists(st.emails(), max_size=3),
    gpus=st.integers(0, 64),
)
def test_the_written_team_file_reads_back_as_asked(display: str, users: list[str], gpus: int) -> None:
    """Whatever a display name or e-mail holds (quotes, colons, '#', unicode), the YAML says exactly that."""
    request = team.NewTeam(
        name="speech",
        environments=["dev", "staging"],
        owners=["lena.park@example.internal"],
        display_name=display,
        users=users,
        gpus=gpus,
    )
    document = yamlio.load(team.team_yaml(request))
    assert document == team.team_document(request)


def test_team_options_for_a_team_whose_budget_allows_no_class(kfvs: KfvsRunner, project: Path) -> None:
    path = project / "policies/quotas/config/dev.json"
    config = json.loads(path.read_text())
    config["team-quotas"]["teams"]["recsys"]["vmClasses"] = []
    path.write_text(json.dumps(config, indent=2) + "\n")
    run = kfvs("team", "options", "dev", "--team", "recsys")
    assert run.returncode == 0, run.stderr
    assert "  none allowed by the team's budget" in run.stdout
    assert "  none: no namespace binds a VM class the team's budget allows" in run.stdout
    assert "storage classes:" not in run.stdout
