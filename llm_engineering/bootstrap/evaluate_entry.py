"""The SageMaker evaluation job's entry script: the in-process LLM client wired into the evaluation entry point.

`stage_job_code` copies it to the root of the job's code; a model folder becomes a transformers client on the job's
GPU (the CPU when it has none), as the factories do in a local run.
"""

from pathlib import Path

from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.model.evaluation.sagemaker_entry import main


def local_client(folder: Path, batch_size: int) -> LocalTransformersClient:
    """The model in `folder` as an in-process client."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return LocalTransformersClient(
        str(folder),
        models_dir=Path("/tmp/models"),  # noqa: S108 - the job container's scratch space
        device=device,
        batch_size=batch_size,
        timeout_s=3600.0,
    )


if __name__ == "__main__":
    raise SystemExit(main(local_client))
