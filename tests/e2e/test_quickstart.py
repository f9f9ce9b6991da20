"""The main job (`make run`) and continuous training through the real pipelines, on a slice of the sample site with
a tiny model, in one shared sequence of runs (each run is minutes of CPU; both tests read the same runs):

1. the main job, with DPO made to fail: it stops with one line and a summary;
2. the main job again: it goes on from DPO, promotes over the base model, exports, and the twin answers;
3. the main job a third time, nothing changed: nothing is retrained or exported again;
4. `llm-twin run continuous-training` on the same config, nothing changed: no new version, promotion refused.
"""

import contextlib
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.model.finetuning.trainer import train as real_train
from sample_site import SampleSite
from tests.cli_support import llm_twin
from tests.conftest import SAMPLE_DIR, link_packaged_llm, make_settings, point_pipelines_at
from tests.training_support import optimization_of, optimized_artifact_id, sample_continuous_training, write_config

if TYPE_CHECKING:
    from zenml.models import ModelVersionResponse


@dataclass(frozen=True)
class Run:
    """One `llm-twin` call: its exit code, what it printed, and the main job's summary file afterwards."""

    code: int
    out: str
    err: str
    stages: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Runs:
    """The four runs and what the registry held between them."""

    tmp: Path
    model_name: str
    links: set[str]
    base_url: str
    failed: Run
    resumed: Run
    unchanged: Run
    continuous: Run
    summary: dict[str, Any]  # the third run's summary file
    production_after_resume: "ModelVersionResponse"
    decision_after_resume: dict[str, Any]
    decision_after_continuous: dict[str, Any]
    export_after_resume: uuid.UUID


def _call(args: list[str], summary_file: Path | None = None) -> Run:
    """Run `llm-twin args` with its output captured; the main job's stages as its summary file lists them."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = llm_twin(args)
    summary: dict[str, Any] = json.loads(summary_file.read_text()) if summary_file else {"stages": []}
    return Run(code, out.getvalue(), err.getvalue(), {stage["key"]: stage for stage in summary["stages"]})


@pytest.fixture(scope="module")
def runs(
    mongo_server: LocalMongoServer, llm_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runs]:
    from zenml.client import Client

    from llm_engineering.model.registry import find_model_version

    tmp = tmp_path_factory.mktemp("main-job")
    settings = make_settings(
        tmp / "data", LOCAL_DATABASE_PORT=mongo_server.port, DATABASE_NAME=f"twin_test_{uuid.uuid4().hex[:12]}"
    )
    link_packaged_llm(llm_models_dir, settings.data_dir)
    model_name = f"TwinQS{uuid.uuid4().hex[:6]}"
    summary_file = tmp / "output" / "run_summary.json"

    def dpo_crashes(config: Any, *args: Any, **kwargs: Any) -> Any:
        if config.finetuning_type == "dpo":
            raise OSError("injected: no space left on device while training DPO")
        return real_train(config, *args, **kwargs)

    with pytest.MonkeyPatch.context() as monkeypatch, SampleSite(SAMPLE_DIR) as site:
        point_pipelines_at(settings, monkeypatch)
        monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
        monkeypatch.setenv("LINKEDIN_USERNAME", "sample-reader")
        monkeypatch.setenv("LINKEDIN_PASSWORD", "sample-site")
        monkeypatch.delenv("COMET_API_KEY", raising=False)
        # A short answer and a short question leave the tiny model's window to the retrieved context.
        monkeypatch.setenv("API_MAX_NEW_TOKENS", "8")
        monkeypatch.setenv("API_MAX_INPUT_CHARS", "60")
        config = write_config(
            tmp / "quickstart.yaml",
            sample_continuous_training(tmp, site, settings, model_name),
            enable_cache=False,
        )
        args = ["--config", config, "--summary", str(summary_file), "--max-new-tokens", "8"]
        args += ["--question", "Theo Brandt, which tools do you dislike?"]

        monkeypatch.setattr("steps.training.train.train", dpo_crashes)
        failed = _call(["quickstart", *args], summary_file)
        monkeypatch.setattr("steps.training.train.train", real_train)

        resumed = _call(["quickstart", *args], summary_file)
        production = find_model_version(model_name, "production")
        decision_after_resume = Client().get_artifact_version("promotion_decision").load()
        export_after_resume = optimized_artifact_id(production)
        links, base_url = set(site.links_for("Theo Brandt")), site.base_url

        unchanged = _call(["quickstart", *args], summary_file)
        summary = json.loads(summary_file.read_text())
        continuous = _call(["run", "continuous-training", "--config", config])
        decision_after_continuous = Client().get_artifact_version("promotion_decision").load()
        yield Runs(
            tmp=tmp,
            model_name=model_name,
            links=links,
            base_url=base_url,
            failed=failed,
            resumed=resumed,
            unchanged=unchanged,
            continuous=continuous,
            summary=summary,
            production_after_resume=production,
            decision_after_resume=decision_after_resume,
            decision_after_continuous=decision_after_continuous,
            export_after_resume=export_after_resume,
        )
    from llm_engineering.settings import get_settings

    get_settings.cache_clear()


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the shared runs are made in the first test's setup
def test_the_main_job_stops_on_a_failure_resumes_answers_and_then_reuses_everything(runs: Runs) -> None:
    from zenml.client import Client

    from llm_engineering.model.registry import find_model_version

    first, second, third = runs.failed.stages, runs.resumed.stages, runs.unchanged.stages
    # The failed run: its stages announced in order up to DPO, DPO named with its reason in one line, the later
    # stages not run, what SFT made kept.
    assert runs.failed.code == 1
    assert "[1/9] Crawl the sample authors" in runs.failed.out and "[6/9] DPO" in runs.failed.out
    assert "[7/9]" not in runs.failed.out
    assert first["sft"]["status"] == "completed" and first["sft"]["made"]["reused"] is False
    assert first["dpo"]["status"] == "failed"
    assert "injected: no space left on device while training DPO" in first["dpo"]["error"]
    assert first["evaluate"]["status"] == "not run" and first["ask"]["status"] == "not run"
    [reason] = [line for line in runs.failed.err.splitlines() if line.startswith("error: stopped at DPO")]
    assert "injected: no space left" in reason

    # The next run went on from DPO: SFT reused, DPO trained, promoted, exported, and the twin answered from the
    # sample corpus.
    assert runs.resumed.code == 0, runs.resumed.err[-3000:]
    assert all(stage["status"] == "completed" for stage in second.values()), second
    assert list(second) == ["etl", "features", "instruct", "preference", "sft", "dpo", "evaluate", "optimize", "ask"]
    assert second["sft"]["made"]["reused"] is True
    assert second["sft"]["made"]["version"] == first["sft"]["made"]["version"]
    assert second["dpo"]["made"]["reused"] is False
    assert second["evaluate"]["made"]["promoted"] is True
    production = runs.production_after_resume
    assert production.number == second["dpo"]["made"]["version"]
    assert second["optimize"]["made"]["weight_format"] == "int8"
    resumed_output = runs.resumed.out
    assert "Sources:" in resumed_output and "poe run-inference-ml-service" in resumed_output
    assert "/v1/chat/completions" in resumed_output
    assert runs.summary["outcome"] == "the twin answered"  # the third run's summary, same shape
    answer = runs.summary["answer"]
    assert answer["sources"] and answer["sources"][0]["author"] == "Theo Brandt"
    cited = answer["sources"][0]["link"]
    assert cited in runs.links or cited.startswith(runs.base_url), (cited, runs.links)  # article, repository or post
    assert f"  1. Theo Brandt  {cited}" in resumed_output

    # Nothing changed, so nothing is trained, promoted or exported again, and the same version answers.
    assert runs.unchanged.code == 0, runs.unchanged.err[-3000:]
    assert third["sft"]["made"]["reused"] is True and third["dpo"]["made"]["reused"] is True
    assert third["optimize"]["made"]["reused"] is True
    assert third["evaluate"]["made"]["promoted"] is False
    versions = Client().list_model_versions(model=runs.model_name).items
    assert len(versions) == 2
    assert find_model_version(runs.model_name, "production").number == production.number


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the shared runs are made in the first test's setup, whichever test comes first
def test_continuous_training_promotes_over_the_base_once_and_then_refuses_its_own_version(runs: Runs) -> None:
    """The resumed main job is continuous training's first complete run; `llm-twin run continuous-training` with no
    new data trains nothing, adds no version, and its candidate (already in production) is refused promotion."""
    from zenml.client import Client

    from llm_engineering.model.registry import find_model_version

    assert runs.continuous.code == 0, runs.continuous.err[-3000:]
    versions = Client().list_model_versions(model=runs.model_name, sort_by="asc:number").items
    assert [[tag.name for tag in version.tags] for version in versions] == [["sft"], ["dpo"]]
    first, second = runs.decision_after_resume, runs.decision_after_continuous
    assert first["promoted"] is True and first["reference_label"] == "the base model", first["reason"]
    assert first["candidate_version"] == versions[1].number
    assert find_model_version(runs.model_name, "production").number == versions[1].number
    assert second["promoted"] is False and second["candidate_version"] == versions[1].number
    assert second["reason"].startswith("not promoted:"), second["reason"]
    assert (runs.tmp / "evaluation" / f"{runs.model_name}-{versions[1].number}.png").is_file()
    # The optimize stage ran after promotion, on the production version; the later runs reused its export.
    production = find_model_version(runs.model_name, "production")
    assert optimized_artifact_id(production) == runs.export_after_resume
    optimization = optimization_of(production)
    assert optimization["weight_format"] == "int8" and optimization["perplexity_ratio"] > 0
