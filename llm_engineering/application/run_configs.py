"""The typed run configuration of each data pipeline, and the loader that turns a YAML file into one.

A config file holds ZenML's run options (`enable_cache`, `settings`, ...) and a `parameters:` section whose
keys are the fields of the pipeline's model. `load_run_config` validates that section before ZenML starts,
and turns any mistake into one line naming the file, the key path and what was expected.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar, get_args

import yaml
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from llm_engineering.application.dataset.builder import DatasetBuilderConfig
from llm_engineering.application.preprocessing.chunking import ChunkingConfig
from llm_engineering.domain.config import RunConfig
from llm_engineering.domain.crawling import CrawlerKind, CrawlerOptions
from llm_engineering.domain.exceptions import ConfigError

ConfigT = TypeVar("ConfigT", bound=RunConfig)


class DigitalDataEtlConfig(RunConfig):
    """`digital_data_etl`: one author's links into the warehouse. The book's configs (name + links) run as is."""

    user_full_name: str = Field(min_length=1, description='the author, "First Last"')
    links: list[str] = Field(
        min_length=1, description="pages to crawl: Medium, Substack, LinkedIn, GitHub, any article"
    )
    crawler: CrawlerOptions = CrawlerOptions()
    routes: dict[str, CrawlerKind] = Field(
        default_factory=dict, description='extra "domain[:port][/path]" -> crawler kind'
    )
    max_failure_fraction: float | None = Field(
        default=None, ge=0, le=1, description="fail past this share of failed links (null: any for one link, else half)"
    )
    max_workers: int = Field(default=4, ge=1, description="links crawled at once")
    max_per_domain: int = Field(default=2, ge=1, description="links of one domain crawled at once")


class FeatureEngineeringConfig(RunConfig):
    """`feature_engineering`: clean, chunk and embed the warehouse into the feature store."""

    author_full_names: list[str] = Field(default_factory=list, description="empty: every author in the warehouse")
    full: bool = Field(default=False, description="rebuild every document, not only new or changed ones")
    chunking: ChunkingConfig = ChunkingConfig()
    embedding_batch_size: int = Field(default=32, ge=1)
    write_batch_size: int = Field(default=256, ge=1, description="chunks embedded and written per round")


class GenerateDatasetsConfig(RunConfig):
    """`generate_datasets`: an instruction or a preference dataset from the feature store."""

    BOOK_KEYS: ClassVar[dict[str, str]] = {
        "test_split_size": "this project calls it dataset.test_fraction",
        "dataset_id": "this project calls it huggingface_dataset_id",
        "mock": "there is no mock mode here: the LLM comes from the settings (LLM_BACKEND), local by default",
    }

    author_full_names: list[str] = Field(default_factory=list, description="empty: every author in the warehouse")
    dataset: DatasetBuilderConfig = DatasetBuilderConfig()
    push_to_huggingface: bool = False
    huggingface_dataset_id: str = "llm-twin-datasets"


class ExportArtifactConfig(RunConfig):
    """`export_artifact_to_json`: the latest dataset artifacts as JSON files."""

    artifact_names: list[str] = Field(default_factory=lambda: ["instruct_datasets", "preference_datasets"])
    output_dir: str = "output"


class EndToEndDataConfig(RunConfig):
    """`end_to_end_data`: every stage's config, each given as the path of its own file (or inline).

    The stage files are loaded and validated with the rest, so nothing runs when any of them is wrong.
    """

    BOOK_KEYS: ClassVar[dict[str, str]] = {
        "author_links": "this project runs one ETL config file per author: list them under etl_configs",
        "test_split_size": "set dataset.test_fraction in the files named by instruct_config and preference_config",
        "dataset_id": "set huggingface_dataset_id in the files named by instruct_config and preference_config",
        "mock": "there is no mock mode here: the LLM comes from the settings (LLM_BACKEND), local by default",
    }

    etl_configs: list[DigitalDataEtlConfig] = Field(min_length=1)
    feature_config: FeatureEngineeringConfig = FeatureEngineeringConfig()
    instruct_config: GenerateDatasetsConfig = GenerateDatasetsConfig()
    preference_config: GenerateDatasetsConfig = GenerateDatasetsConfig(
        dataset=DatasetBuilderConfig(dataset_type="preference")
    )

    @field_validator("etl_configs", mode="before")
    @classmethod
    def _load_etl_files(cls, value: Any) -> Any:
        return [config_or_file(item, DigitalDataEtlConfig) for item in value] if isinstance(value, list) else value

    @field_validator("feature_config", "instruct_config", "preference_config", mode="before")
    @classmethod
    def _load_stage_file(cls, value: Any, info: ValidationInfo) -> Any:
        return config_or_file(value, cls.model_fields[str(info.field_name)].annotation)


def read_config_file(path: Path) -> dict[str, Any]:
    """The YAML mapping of a config file; a missing or malformed file is a ConfigError naming it."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: expected a mapping with a `parameters:` section, found {type(content).__name__}")
    return content


def parse_run_config(parameters: Any, model: type[ConfigT], *, source: str) -> ConfigT:
    """Validate a `parameters:` mapping into the pipeline's model; errors are one line naming source and key."""
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise ConfigError(f"{source}: parameters: expected a mapping of keys, found {type(parameters).__name__}")
    try:
        return model.model_validate(parameters)
    except ValidationError as error:
        raise ConfigError(f"{source}: {describe_validation_error(error, model)}") from None


def load_run_config(path: Path, model: type[ConfigT]) -> ConfigT:
    """The typed config of a YAML file's `parameters:` section."""
    return parse_run_config(read_config_file(path).get("parameters"), model, source=str(path))


def config_or_file(value: Any, model: Any) -> Any:
    """A stage given as a file path becomes that file's validated `model`; anything else is left to pydantic.

    `model` is a config class, or a field's annotation such as `TrainingConfig | None` (its config class is used).
    """
    if not isinstance(value, str):
        return value
    config_class = next(
        (arg for arg in (model, *get_args(model)) if isinstance(arg, type) and issubclass(arg, RunConfig)), None
    )
    if config_class is None:
        raise TypeError(f"{model!r} names no run config class to load {value} as.")
    return load_run_config(Path(value), config_class)


def describe_validation_error(error: ValidationError, model: type[BaseModel]) -> str:
    """The first problem as `parameters.key.path: what was expected`, with a count of any others."""
    # An unknown key usually explains the rest (a renamed key is also "missing" under its new name).
    problems = sorted(error.errors(), key=lambda problem: problem["type"] != "extra_forbidden")
    first = problems[0]
    location = tuple(first["loc"])
    key_path = "parameters" + "".join(
        f"[{part}]" if isinstance(part, int) else f"[{str(part)!r}]" if "." in str(part) else f".{part}"
        for part in location
    )
    if first["type"] == "extra_forbidden":
        book_keys: dict[str, str] = getattr(model, "BOOK_KEYS", {})
        hint = book_keys.get(".".join(str(part) for part in location))
        owner = _model_at(model, location[:-1])
        valid = ", ".join(owner.model_fields) if owner is not None else ""
        message = f"unknown key ({hint})" if hint else f"unknown key; valid keys here: {valid}"
    elif first["type"] == "missing":
        message = "required, but missing"
    else:
        message = f"{first['msg']} (got {first.get('input')!r})"
    others = error.error_count() - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    return f"{key_path}: {message}{more}"


def _model_at(model: type[BaseModel], location: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the keys at location, following nested models, lists and dicts."""
    current: Any = model
    for part in location:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = field.annotation
        while not (isinstance(current, type) and issubclass(current, BaseModel)):
            arguments = [a for a in get_args(current) if a is not type(None)]
            if not arguments:
                break
            current = arguments[-1]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
