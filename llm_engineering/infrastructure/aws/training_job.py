"""A SageMaker Hugging Face training job: channels uploaded to S3, the job created, its model.tar.gz fetched back."""

import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.settings import Settings

if TYPE_CHECKING:
    from sagemaker.session import Session

# Telemetry on makes an HTTP call with no timeout from every Session; the project never sends it.
SAGEMAKER_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


@dataclass(frozen=True)
class TrainingJobSpec:
    """Everything one job needs: code, hyperparameters, local folders to upload as channels, and the machine."""

    job_name: str
    source_dir: Path
    entry_point: str
    hyperparameters: Mapping[str, str]
    channels: Mapping[str, Path]
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_run_s: int
    transformers_version: str
    pytorch_version: str
    py_version: str
    s3_prefix: str
    environment: Mapping[str, str] = field(default_factory=dict)


def sagemaker_session(settings: Settings) -> "Session":
    """A SageMaker session for AWS_REGION with the configured keys (else boto3's default chain), telemetry off.

    Every call goes where boto3 sends it, AWS_ENDPOINT_URL included (an emulator asks STS for the account here).
    """
    import boto3
    from sagemaker.session import Session

    boto_session = boto3.Session(
        region_name=settings.AWS_REGION,
        aws_access_key_id=settings.AWS_ACCESS_KEY.get_secret_value() if settings.AWS_ACCESS_KEY else None,
        aws_secret_access_key=settings.AWS_SECRET_KEY.get_secret_value() if settings.AWS_SECRET_KEY else None,
    )
    return Session(
        boto_session=boto_session,
        default_bucket=_default_bucket_off_aws(boto_session),
        sagemaker_config=SAGEMAKER_CONFIG,
    )


def _default_bucket_off_aws(boto_session: Any) -> str | None:
    """The SDK's default bucket name where boto3 sends STS somewhere other than AWS's own STS, else None.

    The SDK looks the account up at an STS address it names itself, which outranks AWS_ENDPOINT_URL. On AWS that is
    the address boto3 uses too, and the SDK, naming the bucket itself, also checks who owns it.
    """
    from sagemaker.utils import sts_regional_endpoint

    sts = boto_session.client("sts")
    if sts.meta.endpoint_url == sts_regional_endpoint(boto_session.region_name):
        return None
    account: str = sts.get_caller_identity()["Account"]
    return f"sagemaker-{boto_session.region_name}-{account}"


def launch_training_job(spec: TrainingJobSpec, settings: Settings, session: "Session", *, wait: bool) -> Any:
    """Upload the channels, create the job (role AWS_ARN_ROLE) and, with `wait`, follow it to the end; the estimator."""
    from sagemaker.huggingface import HuggingFace

    if not settings.AWS_ARN_ROLE:
        raise SettingsError(
            "runner: sagemaker needs AWS_ARN_ROLE, the SageMaker execution role's ARN; create one with "
            "`poe create-sagemaker-execution-role` and set it in .env."
        )
    bucket = session.default_bucket()
    prefix = f"{spec.s3_prefix.strip('/')}/{spec.job_name}"
    inputs = {
        name: session.upload_data(path=str(folder), bucket=bucket, key_prefix=f"{prefix}/input/{name}")
        for name, folder in spec.channels.items()
    }
    estimator = HuggingFace(
        entry_point=spec.entry_point,
        source_dir=str(spec.source_dir),
        role=settings.AWS_ARN_ROLE,
        instance_type=spec.instance_type,
        instance_count=spec.instance_count,
        volume_size=spec.volume_size_gb,
        max_run=spec.max_run_s,
        transformers_version=spec.transformers_version,
        pytorch_version=spec.pytorch_version,
        py_version=spec.py_version,
        hyperparameters=dict(spec.hyperparameters),
        environment=dict(spec.environment),
        output_path=f"s3://{bucket}/{prefix}/output",
        code_location=f"s3://{bucket}/{prefix}/code",
        checkpoint_s3_uri=f"s3://{bucket}/{prefix}/checkpoints",
        sagemaker_session=session,
        disable_profiler=True,
    )
    logger.info("Starting SageMaker training job {} on {}.", spec.job_name, spec.instance_type)
    estimator.fit(inputs=inputs, job_name=spec.job_name, wait=wait, logs="All" if wait else "None")
    return estimator


def download_model(model_data: str, session: "Session", target: Path) -> Path:
    """The job's model.tar.gz from S3, unpacked into `target`."""
    from sagemaker.s3 import S3Downloader

    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        S3Downloader.download(model_data, scratch, sagemaker_session=session)
        with tarfile.open(Path(scratch) / "model.tar.gz") as archive:
            archive.extractall(target, filter="data")
    logger.info("Downloaded the job's model {} to {}.", model_data, target)
    return target
