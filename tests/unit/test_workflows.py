"""The GitHub workflows do what the docs say: CD deploys on a tag with OIDC credentials, never a stored key."""

from typing import Any

import yaml

from tests.conftest import REPO_ROOT


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())
    return loaded


def test_cd_deploys_on_a_tag_with_an_assumed_role_and_no_stored_key() -> None:
    cd = workflow("cd.yaml")
    triggers = cd[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"] == {"tags": ["v*"]}
    assert cd["permissions"]["id-token"] == "write"
    steps = cd["jobs"]["deploy"]["steps"]
    [credentials] = [step for step in steps if str(step.get("uses", "")).startswith("aws-actions/configure-aws")]
    assert "role-to-assume" in credentials["with"]
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    text = (REPO_ROOT / ".github" / "workflows" / "cd.yaml").read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in text and "secrets.AWS" not in text
    # The image is pushed, then the stack's change set is deployed with it.
    runs = [step.get("run", "") for step in steps]
    assert any("llm-twin aws deploy-stack" in run and "--image-uri" in run for run in runs)
    assert [step.get("uses", "").split("@")[0] for step in steps].index("docker/build-push-action") < next(
        index for index, run in enumerate(runs) if "--image-uri" in run
    )
