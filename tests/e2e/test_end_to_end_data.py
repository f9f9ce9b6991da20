"""The whole data side in one ZenML run: the sample site's author → warehouse → features → both datasets."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import Settings
from sample_site import SampleSite
from tests.cli_support import llm_twin
from tests.conftest import REPO_ROOT, SAMPLE_DIR, run_tool, sample_site_etl_config


def config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "configs" / name).read_text())
    return loaded


@pytest.mark.slow
def test_end_to_end_data_pipeline_on_the_sample_site(
    warehouse: MongoDataWarehouse,
    pipeline_env: Settings,
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("LINKEDIN_USERNAME", "sample-reader")
    monkeypatch.setenv("LINKEDIN_PASSWORD", "sample-site")
    with SampleSite(SAMPLE_DIR) as site:
        # Where the shipped config's git_mirrors ("file://{data_dir}/sample-site/git/") points.
        site.write_git_mirror(pipeline_env.data_dir / "sample-site" / "git")
        etl = sample_site_etl_config(site, "digital_data_etl_theo_brandt.yaml", "Theo Brandt")
        paths = {}
        for name, data in {
            "etl.yaml": etl,
            "features.yaml": config("feature_engineering.yaml"),
            "instruct.yaml": config("generate_instruct_datasets.yaml"),
            "preference.yaml": config("generate_preference_datasets.yaml"),
        }.items():
            if "dataset" in data["parameters"]:
                dataset = data["parameters"]["dataset"]
                dataset.setdefault("extracts", {}).update(categories=["posts"], max_per_category=3)
                dataset.setdefault("generation", {}).update(
                    {
                        "max_new_tokens": 24,
                        "rejected_max_new_tokens": 24,
                        "rejected_max_per_category": 3,
                    }
                )
            paths[name] = tmp_path / name
            paths[name].write_text(yaml.safe_dump(data))
        e2e = config("end_to_end_data.yaml")
        e2e["parameters"] = {
            "etl_configs": [str(paths["etl.yaml"])],
            "feature_config": str(paths["features.yaml"]),
            "instruct_config": str(paths["instruct.yaml"]),
            "preference_config": str(paths["preference.yaml"]),
        }
        (tmp_path / "e2e.yaml").write_text(yaml.safe_dump(e2e))
        assert llm_twin(["run", "end-to-end-data", "--config", str(tmp_path / "e2e.yaml")]) == 0

    status = json.loads(run_tool("status", "--json", env=cli_env))
    assert status["mongo"] == {"users": 1, "articles": 6, "posts": 25, "repositories": 1}
    assert status["qdrant"]["cleaned_posts"] == 25 and status["qdrant"]["embedded_repositories"] > 0

    from zenml.client import Client

    for name in ("instruct_datasets", "preference_datasets"):
        assert Client().get_artifact_version(name).run_metadata["extracts"] == 3
