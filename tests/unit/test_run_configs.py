"""The typed run configs: every shipped file validates, and a mistake is one line that names it."""

from pathlib import Path

import pytest
import yaml

from llm_engineering.application.run_configs import (
    DigitalDataEtlConfig,
    EndToEndDataConfig,
    FeatureEngineeringConfig,
    load_run_config,
)
from llm_engineering.domain.crawling import CrawlerKind
from llm_engineering.domain.exceptions import ConfigError
from tests.cli_support import llm_twin
from tests.conftest import REPO_ROOT
from tools.run import PIPELINES, Pipeline

# Which pipeline each shipped config file belongs to, by file-name prefix.
CONFIG_PIPELINES = {
    "digital_data_etl": "digital-data-etl",
    "feature_engineering": "feature-engineering",
    "generate_": "generate-datasets",
    "end_to_end_data": "end-to-end-data",
    "export_artifact_to_json": "export-artifact-to-json",
    "training": "training",
    "evaluating": "evaluating",
    "continuous_training": "continuous-training",
    "quickstart": "continuous-training",
    "optimize_model": "optimize-model",
}


def write(tmp_path: Path, parameters: object, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"enable_cache": False, "parameters": parameters}))
    return path


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)  # end_to_end_data.yaml names the other files relative to the project root
    [pipeline] = [name for prefix, name in CONFIG_PIPELINES.items() if path.name.startswith(prefix)]
    config = load_run_config(path, PIPELINES[Pipeline(pipeline)].config_model)
    assert config.model_dump()


def test_a_book_style_etl_config_gets_every_other_key_from_the_defaults(tmp_path: Path) -> None:
    config = load_run_config(
        write(tmp_path, {"user_full_name": "Paul Iusztin", "links": ["https://x.dev/a"]}), DigitalDataEtlConfig
    )
    assert config.crawler.timeout_s == 15.0 and config.routes == {} and config.max_workers == 4


def test_a_mistyped_nested_key_is_named_with_its_path_and_the_valid_keys(tmp_path: Path) -> None:
    path = write(tmp_path, {"user_full_name": "A B", "links": ["https://x.dev"], "crawler": {"timout_s": 3}})
    with pytest.raises(ConfigError) as error:
        load_run_config(path, DigitalDataEtlConfig)
    message = str(error.value)
    assert message.startswith(f"{path}: parameters.crawler.timout_s: unknown key")
    assert "timeout_s" in message and "\n" not in message


def test_a_wrong_value_says_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, {"user_full_name": "A B", "links": ["https://x.dev"], "routes": {"a.dev": "medum"}})
    with pytest.raises(ConfigError, match=r"parameters\.routes\['a\.dev'\]: Input should be 'medium'"):
        load_run_config(path, DigitalDataEtlConfig)


def test_a_book_key_this_project_renamed_says_its_new_name(tmp_path: Path) -> None:
    path = write(tmp_path, {"test_split_size": 0.1})
    with pytest.raises(ConfigError, match=r"parameters\.test_split_size: unknown key \(this project calls it"):
        load_run_config(path, PIPELINES[Pipeline.GENERATE_DATASETS].config_model)


def test_end_to_end_validates_every_stage_file_before_anything_runs(tmp_path: Path) -> None:
    bad_etl = write(tmp_path, {"user_full_name": "A B", "links": ["https://x.dev"], "max_workres": 2}, "etl.yaml")
    e2e = write(
        tmp_path,
        {
            "etl_configs": [str(bad_etl)],
            "instruct_config": str(REPO_ROOT / "configs" / "generate_instruct_datasets.yaml"),
            "preference_config": str(REPO_ROOT / "configs" / "generate_preference_datasets.yaml"),
        },
        "e2e.yaml",
    )
    with pytest.raises(ConfigError, match=rf"^{bad_etl}: parameters\.max_workres: unknown key"):
        load_run_config(e2e, EndToEndDataConfig)


def test_stage_files_load_into_typed_stages(tmp_path: Path) -> None:
    etl = write(
        tmp_path, {"user_full_name": "A B", "links": ["https://x.dev"], "routes": {"x.dev": "github"}}, "e.yaml"
    )
    features = write(tmp_path, {"full": True}, "f.yaml")
    instruct = str(REPO_ROOT / "configs" / "generate_instruct_datasets.yaml")
    preference = str(REPO_ROOT / "configs" / "generate_preference_datasets.yaml")
    parameters = {
        "etl_configs": [str(etl)],
        "feature_config": str(features),
        "instruct_config": instruct,
        "preference_config": preference,
    }
    config = load_run_config(write(tmp_path, parameters, "e2e.yaml"), EndToEndDataConfig)
    assert config.etl_configs[0].routes == {"x.dev": CrawlerKind.GITHUB}
    assert config.feature_config == FeatureEngineeringConfig(full=True)
    assert config.preference_config.dataset.dataset_type == "preference"
    # What ZenML stores for the run's parameters validates back to the same config.
    assert EndToEndDataConfig.model_validate(config.model_dump(mode="json")) == config


def test_missing_and_malformed_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_run_config(tmp_path / "nope.yaml", FeatureEngineeringConfig)
    broken = tmp_path / "broken.yaml"
    broken.write_text("parameters: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_run_config(broken, FeatureEngineeringConfig)


def test_print_config_shows_the_defaults_and_reads_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"user_full_name": "A B", "links": ["https://x.dev"]})
    assert llm_twin(["run", "digital-data-etl", "--config", str(path), "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["enable_cache"] is False
    assert printed["parameters"]["crawler"]["respect_robots"] is True
    assert DigitalDataEtlConfig.model_validate(printed["parameters"]) == load_run_config(path, DigitalDataEtlConfig)
