"""The twin's SageMaker TGI endpoint: deploy (model, endpoint config, endpoint, autoscaling), test and delete.

Deploying is all or nothing: a step that fails removes what the earlier steps created, then raises.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from loguru import logger

from llm_engineering.domain.exceptions import EndpointDeployError
from llm_engineering.domain.ports import GenerationParams
from llm_engineering.infrastructure.llm.sagemaker import SageMakerRuntime, parse_tgi_response, tgi_payload
from llm_engineering.settings import Settings

VARIANT = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
# TGI downloads and loads the model before it answers its health check; large models need minutes.
STARTUP_HEALTH_CHECK_TIMEOUT_S = 900
TEST_PROMPT = "My name is Maya Okafor. Write one sentence on how to keep GPU costs down."


class SageMakerApi(Protocol):
    """The calls of boto3's `sagemaker` client used here."""

    def create_model(self, **kwargs: Any) -> Any:
        """Register the model: the TGI image, the weights' location and its environment."""
        ...

    def create_endpoint_config(self, **kwargs: Any) -> Any:
        """Create the endpoint configuration: instance type and count for the model."""
        ...

    def create_endpoint(self, **kwargs: Any) -> Any:
        """Start creating the endpoint from its configuration (SageMaker brings it up asynchronously)."""
        ...

    def describe_endpoint(self, **kwargs: Any) -> Any:
        """The endpoint's status (Creating, InService, Failed ...), polled until it is ready."""
        ...

    def delete_endpoint(self, **kwargs: Any) -> Any:
        """Delete the endpoint; the instances stop billing."""
        ...

    def delete_endpoint_config(self, **kwargs: Any) -> Any:
        """Delete the endpoint configuration."""
        ...

    def delete_model(self, **kwargs: Any) -> Any:
        """Delete the registered model."""
        ...


class AutoscalingApi(Protocol):
    """The calls of boto3's `application-autoscaling` client used here."""

    def register_scalable_target(self, **kwargs: Any) -> Any:
        """Make the endpoint's instance count scalable between a minimum and a maximum."""
        ...

    def put_scaling_policy(self, **kwargs: Any) -> Any:
        """Attach the target-tracking policy on invocations per instance."""
        ...

    def deregister_scalable_target(self, **kwargs: Any) -> Any:
        """Remove the endpoint from autoscaling before it is deleted."""
        ...


@dataclass(frozen=True)
class EndpointSpec:
    """What to deploy where: names, instance, TGI limits and the autoscaling range (the book's settings)."""

    endpoint_name: str
    endpoint_config_name: str
    role_arn: str
    region: str
    instance_type: str
    num_gpus: int
    max_input_length: int
    max_total_tokens: int
    max_batch_total_tokens: int
    tgi_version: str
    min_replicas: int
    max_replicas: int
    target_invocations_per_instance: float

    @property
    def model_name(self) -> str:
        """The SageMaker model shares the endpoint's name, so delete finds it without a lookup."""
        return self.endpoint_name

    @property
    def resource_id(self) -> str:
        """The autoscaling resource: the endpoint's only variant."""
        return f"endpoint/{self.endpoint_name}/variant/{VARIANT}"

    @classmethod
    def from_settings(cls, settings: Settings) -> "EndpointSpec":
        """The spec from Settings; AWS_ARN_ROLE is required."""
        if not settings.AWS_ARN_ROLE:
            raise EndpointDeployError(
                "AWS_ARN_ROLE is not set: SageMaker needs an execution role that can read the model artifact "
                "(set AWS_ARN_ROLE=arn:aws:iam::<account>:role/<role> in .env)."
            )
        return cls(
            endpoint_name=settings.SAGEMAKER_ENDPOINT_INFERENCE,
            endpoint_config_name=settings.SAGEMAKER_ENDPOINT_CONFIG_INFERENCE,
            role_arn=settings.AWS_ARN_ROLE,
            region=settings.AWS_REGION,
            instance_type=settings.GPU_INSTANCE_TYPE,
            num_gpus=settings.SM_NUM_GPUS,
            max_input_length=settings.MAX_INPUT_LENGTH,
            max_total_tokens=settings.MAX_TOTAL_TOKENS,
            max_batch_total_tokens=settings.MAX_BATCH_TOTAL_TOKENS,
            tgi_version=settings.TGI_VERSION,
            min_replicas=settings.SAGEMAKER_MIN_REPLICAS,
            max_replicas=settings.SAGEMAKER_MAX_REPLICAS,
            target_invocations_per_instance=settings.SAGEMAKER_TARGET_INVOCATIONS_PER_INSTANCE,
        )


def tgi_image_uri(spec: EndpointSpec) -> str:
    """The Hugging Face TGI (LLM) container for the region and version, from the SageMaker SDK's own table."""
    from sagemaker.huggingface.llm_utils import get_huggingface_llm_image_uri

    uri: str = get_huggingface_llm_image_uri("huggingface", region=spec.region, version=spec.tgi_version)
    return uri


def model_container(spec: EndpointSpec, model_location: str, image_uri: str, hf_token: str | None) -> dict[str, Any]:
    """The model's container: TGI with the book's limits, serving an S3 artifact (tar.gz or folder) or a Hub id."""
    environment = {
        "SM_NUM_GPUS": json.dumps(spec.num_gpus),
        "MAX_INPUT_LENGTH": json.dumps(spec.max_input_length),
        "MAX_TOTAL_TOKENS": json.dumps(spec.max_total_tokens),
        "MAX_BATCH_TOTAL_TOKENS": json.dumps(spec.max_batch_total_tokens),
    }
    container: dict[str, Any] = {"Image": image_uri, "Environment": environment}
    if model_location.startswith("s3://"):
        # SageMaker unpacks the artifact into /opt/ml/model, where TGI reads it.
        environment["HF_MODEL_ID"] = "/opt/ml/model"
        if model_location.endswith(".tar.gz"):
            container["ModelDataUrl"] = model_location
        else:
            container["ModelDataSource"] = {
                "S3DataSource": {
                    "S3Uri": model_location.rstrip("/") + "/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            }
    elif model_location.strip():
        environment["HF_MODEL_ID"] = model_location
        if hf_token:
            environment["HUGGING_FACE_HUB_TOKEN"] = hf_token
    else:
        raise EndpointDeployError("The model location is empty; give an s3:// artifact or a Hugging Face Hub id.")
    return container


def deploy_endpoint(
    spec: EndpointSpec,
    model_location: str,
    *,
    sagemaker: SageMakerApi,
    autoscaling: AutoscalingApi,
    image_uri: str,
    hf_token: str | None = None,
    poll_s: float = 30.0,
    max_wait_s: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Create the model, endpoint config and endpoint, wait for InService, then register autoscaling.

    Autoscaling tracks invocations per instance. On any failure, what was created is deleted and
    EndpointDeployError is raised.
    """
    created: list[str] = []
    try:
        logger.info("creating SageMaker model {} from {}", spec.model_name, model_location)
        sagemaker.create_model(
            ModelName=spec.model_name,
            ExecutionRoleArn=spec.role_arn,
            PrimaryContainer=model_container(spec, model_location, image_uri, hf_token),
        )
        created.append("model")
        sagemaker.create_endpoint_config(
            EndpointConfigName=spec.endpoint_config_name,
            ProductionVariants=[
                {
                    "VariantName": VARIANT,
                    "ModelName": spec.model_name,
                    "InitialInstanceCount": spec.min_replicas,
                    "InstanceType": spec.instance_type,
                    "ContainerStartupHealthCheckTimeoutInSeconds": STARTUP_HEALTH_CHECK_TIMEOUT_S,
                }
            ],
        )
        created.append("endpoint_config")
        sagemaker.create_endpoint(EndpointName=spec.endpoint_name, EndpointConfigName=spec.endpoint_config_name)
        created.append("endpoint")
        _wait_in_service(spec, sagemaker, poll_s=poll_s, max_wait_s=max_wait_s, sleep=sleep)
        _register_target(spec, autoscaling)
        created.append("autoscaling")
        _put_policy(spec, autoscaling)
    except Exception as error:
        logger.error("deploying {} failed ({}); removing what was created: {}", spec.endpoint_name, error, created)
        _clean_up(spec, created, sagemaker=sagemaker, autoscaling=autoscaling)
        if isinstance(error, EndpointDeployError):
            raise
        raise EndpointDeployError(
            f"Deploying endpoint {spec.endpoint_name} failed: {_reason(error)}. Nothing was left behind; check "
            "AWS_ARN_ROLE, the model location, the instance quota for GPU_INSTANCE_TYPE, then deploy again."
        ) from error
    logger.info(
        "endpoint {} is InService with autoscaling {}..{}", spec.endpoint_name, spec.min_replicas, spec.max_replicas
    )


def _register_target(spec: EndpointSpec, autoscaling: AutoscalingApi) -> None:
    """The variant's scalable target: min..max replicas."""
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=spec.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
        MinCapacity=spec.min_replicas,
        MaxCapacity=spec.max_replicas,
    )


def _put_policy(spec: EndpointSpec, autoscaling: AutoscalingApi) -> None:
    """Target tracking on invocations per instance: scale out fast, scale in slowly."""
    autoscaling.put_scaling_policy(
        PolicyName=f"{spec.endpoint_name}-invocations-per-instance",
        ServiceNamespace="sagemaker",
        ResourceId=spec.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": spec.target_invocations_per_instance,
            "PredefinedMetricSpecification": {"PredefinedMetricType": INVOCATIONS_METRIC},
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )


def _wait_in_service(
    spec: EndpointSpec, sagemaker: SageMakerApi, *, poll_s: float, max_wait_s: float, sleep: Callable[[float], None]
) -> None:
    waited = 0.0
    while True:
        description = sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)
        status = description["EndpointStatus"]
        if status == "InService":
            return
        if status == "Failed":
            raise EndpointDeployError(
                f"Endpoint {spec.endpoint_name} failed to start: {description.get('FailureReason', 'no reason given')}."
                " It was removed; fix the cause (see the endpoint's CloudWatch logs) and deploy again."
            )
        if waited >= max_wait_s:
            raise EndpointDeployError(
                f"Endpoint {spec.endpoint_name} was still {status} after {max_wait_s:g} s; it was removed. "
                "Deploy again, or check the CloudWatch logs if the model is slow to load."
            )
        sleep(poll_s)
        waited += poll_s


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"{details.get('Code', '?')}: {details.get('Message', '')}"
    return str(error)


def _is_missing(error: Exception) -> bool:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    message = str(getattr(error, "response", {}).get("Error", {}).get("Message", ""))
    return code in ("ValidationException", "ObjectNotFoundException") and (
        "Could not find" in message or "not found" in message.lower() or "No scalable target" in message
    )


def _clean_up(spec: EndpointSpec, created: list[str], *, sagemaker: SageMakerApi, autoscaling: AutoscalingApi) -> None:
    """Delete, in reverse order, what a failed deploy had created; a clean-up failure is logged, not raised."""
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "autoscaling",
            lambda: autoscaling.deregister_scalable_target(
                ServiceNamespace="sagemaker", ResourceId=spec.resource_id, ScalableDimension=SCALABLE_DIMENSION
            ),
        ),
        ("endpoint", lambda: sagemaker.delete_endpoint(EndpointName=spec.endpoint_name)),
        ("endpoint_config", lambda: sagemaker.delete_endpoint_config(EndpointConfigName=spec.endpoint_config_name)),
        ("model", lambda: sagemaker.delete_model(ModelName=spec.model_name)),
    ]
    for name, delete in steps:
        if name in created:
            try:
                delete()
            except Exception as error:
                logger.error(
                    "could not remove the {} of {} after a failed deploy: {}", name, spec.endpoint_name, _reason(error)
                )


def delete_endpoint(spec: EndpointSpec, *, sagemaker: SageMakerApi, autoscaling: AutoscalingApi) -> list[str]:
    """Remove the autoscaling target, the endpoint, its config and its model; what is already gone is skipped.

    Returns what was deleted; raises EndpointDeployError naming what could not be.
    """
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "autoscaling target",
            lambda: autoscaling.deregister_scalable_target(
                ServiceNamespace="sagemaker", ResourceId=spec.resource_id, ScalableDimension=SCALABLE_DIMENSION
            ),
        ),
        (f"endpoint {spec.endpoint_name}", lambda: sagemaker.delete_endpoint(EndpointName=spec.endpoint_name)),
        (
            f"endpoint config {spec.endpoint_config_name}",
            lambda: sagemaker.delete_endpoint_config(EndpointConfigName=spec.endpoint_config_name),
        ),
        (f"model {spec.model_name}", lambda: sagemaker.delete_model(ModelName=spec.model_name)),
    ]
    deleted: list[str] = []
    failures: list[str] = []
    for what, delete in steps:
        try:
            delete()
            deleted.append(what)
        except Exception as error:
            if _is_missing(error):
                logger.info("{} does not exist; skipped", what)
            else:
                failures.append(f"{what}: {_reason(error)}")
    if failures:
        raise EndpointDeployError(
            "Could not delete " + "; ".join(failures) + ". Check the AWS credentials' permissions and run it again."
        )
    return deleted


def call_endpoint_once(spec: EndpointSpec, runtime: SageMakerRuntime, prompt: str = TEST_PROMPT) -> str:
    """One request to the endpoint (TGI's /generate payload); returns the generated text."""
    body = json.dumps(tgi_payload(prompt, GenerationParams(max_new_tokens=64))).encode()
    try:
        response = runtime.invoke_endpoint(
            EndpointName=spec.endpoint_name, ContentType="application/json", Accept="application/json", Body=body
        )
    except Exception as error:
        raise EndpointDeployError(
            f"Endpoint {spec.endpoint_name} did not answer: {_reason(error)}. Is it deployed and InService "
            "(poe deploy-inference-endpoint)?"
        ) from error
    raw: bytes = response["Body"].read()
    return parse_tgi_response(raw)
