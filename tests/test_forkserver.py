"""The suite's fork server stands in for a fresh `kfvs` process: same output, same status, same code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.forkserver import run_kfvs


def _fresh(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "HOME": str(project)}
    command = [sys.executable, "-m", "infra.kfvs.cli", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("args", [("plan", "dev", "--format", "json"), ("plan", "nope")])
def test_a_forked_run_prints_and_ends_as_a_fresh_process(project: Path, args: tuple[str, ...]) -> None:
    forked, fresh = run_kfvs(project, *args), _fresh(project, *args)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)


def test_a_forked_run_uses_the_copys_code_not_the_servers(project: Path) -> None:
    cli = project / "infra/kfvs/cli.py"
    cli.write_text('import sys\nprint("the copy\'s own cli")\nsys.exit(7)\n')
    run = run_kfvs(project, "--help")
    assert (run.returncode, run.stdout) == (7, "the copy's own cli\n")


def test_a_run_past_its_timeout_is_killed_and_the_server_goes_on(project: Path) -> None:
    cli = project / "infra/kfvs/cli.py"
    original = cli.read_text()
    future = "from __future__ import annotations\n"
    assert future in original
    cli.write_text(original.replace(future, future + "import time\ntime.sleep(120)\n", 1))
    with pytest.raises(subprocess.TimeoutExpired):
        run_kfvs(project, "--help", timeout=1)
    cli.write_text(original)
    assert run_kfvs(project, "validate", "prod").returncode == 0


def _counting_imports(project: Path) -> Path:
    """Make the copy's `infra.kfvs.options` note each import of it in a file; that file."""
    log = project / "imports.log"
    options = project / "infra/kfvs/options.py"
    original = options.read_text()
    future = "from __future__ import annotations\n"
    note = f"with open({str(log)!r}, 'a') as _log:\n    _log.write('imported\\n')\n"
    options.write_text(original.replace(future, future + note, 1))
    return log


def test_runs_of_one_folder_and_code_import_the_project_once(project: Path) -> None:
    log = _counting_imports(project)
    for _ in range(3):
        assert run_kfvs(project, "validate", "dev").returncode == 0
    assert log.read_text().splitlines() == ["imported"]  # by the template, not by each run


def test_a_changed_source_is_imported_again_and_runs_as_changed(project: Path) -> None:
    log = _counting_imports(project)
    assert run_kfvs(project, "validate", "dev").returncode == 0
    options = project / "infra/kfvs/options.py"
    options.write_text(options.read_text().replace('return names_here() or "none yet"', 'return "edited"'))
    run = run_kfvs(project, "--help")
    assert "Stacks here: edited." in run.stdout
    assert log.read_text().splitlines() == ["imported", "imported"]


def test_code_that_does_not_import_fails_as_in_a_fresh_process(project: Path) -> None:
    broken = project / "infra/kfvs/options.py"
    broken.write_text(broken.read_text() + '\nraise RuntimeError("broken on purpose")\n')
    forked, fresh = run_kfvs(project, "validate", "dev"), _fresh(project, "validate", "dev")
    assert forked.returncode == fresh.returncode == 1
    assert forked.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1] == "RuntimeError: broken on purpose"
