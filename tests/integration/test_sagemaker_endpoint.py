"""Deploy, test and delete of the SageMaker endpoint on real boto3 clients whose HTTP layer is stubbed by botocore's
Stubber: the exact request sequence, the key fields, and the clean-up when a step fails half-way."""

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from llm_engineering.domain.exceptions import EndpointDeployError
from llm_engineering.infrastructure.aws.endpoint import (
    EndpointSpec,
    call_endpoint_once,
    delete_endpoint,
    deploy_endpoint,
    tgi_image_uri,
)
from llm_engineering.settings import load_settings
from tests.cli_support import llm_twin

ROLE = "arn:aws:iam::123456789012:role/twin-sagemaker"
IMAGE = "763104351884.dkr.ecr.eu-central-1.amazonaws.com/huggingface-pytorch-tgi-inference:tgi3.2.3"
ARTIFACT = "s3://twin-models/TwinLlama/3/model.tar.gz"
RESOURCE = "endpoint/twin/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
ENDPOINT_ARN = "arn:aws:sagemaker:eu-central-1:123456789012:endpoint/twin"
POLICY_ARN = (
    "arn:aws:autoscaling:eu-central-1:123456789012:scalingPolicy:abc:resource/sagemaker/endpoint/twin/variant/"
    "AllTraffic:policyName/twin-invocations-per-instance"
)


def make_spec() -> EndpointSpec:
    settings = load_settings(
        _env_file=None, AWS_ARN_ROLE=ROLE, SAGEMAKER_MIN_REPLICAS=1, SAGEMAKER_MAX_REPLICAS=3, AWS_REGION="eu-central-1"
    )
    return EndpointSpec.from_settings(settings)


class Aws:
    """Real `sagemaker` and `application-autoscaling` clients, each with a Stubber holding the expected calls."""

    def __init__(self) -> None:
        keys = {"region_name": "eu-central-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}
        self.sagemaker = boto3.client("sagemaker", **keys)  # type: ignore[call-overload]
        self.autoscaling = boto3.client("application-autoscaling", **keys)  # type: ignore[call-overload]
        self.sm = Stubber(self.sagemaker)
        self.asg = Stubber(self.autoscaling)
        self.calls: list[str] = []
        for client in (self.sagemaker, self.autoscaling):
            client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: object) -> None:
        self.calls.append(model.name)

    def sm_ok(self, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
        self.sm.add_response(operation, response, params)

    def sm_fail(self, operation: str, code: str, message: str, params: dict[str, Any] | None) -> None:
        self.sm.add_client_error(operation, code, message, 400, expected_params=params)

    def expect_model(self, container: dict[str, Any]) -> None:
        self.sm_ok(
            "create_model",
            {"ModelArn": "arn:aws:sagemaker:eu-central-1:123456789012:model/twin"},
            {"ModelName": "twin", "ExecutionRoleArn": ROLE, "PrimaryContainer": container},
        )

    def expect_config(self) -> None:
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": "twin",
            "InitialInstanceCount": 1,
            "InstanceType": "ml.g5.2xlarge",
            "ContainerStartupHealthCheckTimeoutInSeconds": 900,
        }
        self.sm_ok(
            "create_endpoint_config",
            {"EndpointConfigArn": "arn:aws:sagemaker:eu-central-1:123456789012:endpoint-config/twin"},
            {"EndpointConfigName": "twin", "ProductionVariants": [variant]},
        )

    def expect_endpoint(self) -> None:
        self.sm_ok(
            "create_endpoint", {"EndpointArn": ENDPOINT_ARN}, {"EndpointName": "twin", "EndpointConfigName": "twin"}
        )

    def expect_status(self, status: str, **extra: str) -> None:
        response = {
            "EndpointName": "twin",
            "EndpointArn": ENDPOINT_ARN,
            "EndpointStatus": status,
            "CreationTime": "2026-01-01T00:00:00Z",
            "LastModifiedTime": "2026-01-01T00:00:00Z",
            **extra,
        }
        self.sm_ok("describe_endpoint", response, {"EndpointName": "twin"})

    def expect_deletes(self, *what: str) -> None:
        for name in what:
            if name == "endpoint":
                self.sm_ok("delete_endpoint", {}, {"EndpointName": "twin"})
            elif name == "endpoint_config":
                self.sm_ok("delete_endpoint_config", {}, {"EndpointConfigName": "twin"})
            elif name == "model":
                self.sm_ok("delete_model", {}, {"ModelName": "twin"})

    def deploy(self, location: str = ARTIFACT, **kwargs: Any) -> None:
        deploy_endpoint(
            make_spec(),
            location,
            sagemaker=self.sagemaker,
            autoscaling=self.autoscaling,
            image_uri=IMAGE,
            poll_s=0,
            sleep=lambda _s: None,
            **kwargs,
        )


@pytest.fixture
def aws() -> Iterator[Aws]:
    stubbed = Aws()
    with stubbed.sm, stubbed.asg:
        yield stubbed
        stubbed.sm.assert_no_pending_responses()
        stubbed.asg.assert_no_pending_responses()


TGI_ENV = {"SM_NUM_GPUS": "1", "MAX_INPUT_LENGTH": "2048", "MAX_TOTAL_TOKENS": "4096", "MAX_BATCH_TOTAL_TOKENS": "4096"}


def test_deploy_creates_model_config_endpoint_waits_then_autoscales(aws: Aws) -> None:
    aws.expect_model(
        {"Image": IMAGE, "Environment": {**TGI_ENV, "HF_MODEL_ID": "/opt/ml/model"}, "ModelDataUrl": ARTIFACT}
    )
    aws.expect_config()
    aws.expect_endpoint()
    aws.expect_status("Creating")
    aws.expect_status("InService")
    aws.asg.add_response(
        "register_scalable_target",
        {},
        {
            "ServiceNamespace": "sagemaker",
            "ResourceId": RESOURCE,
            "ScalableDimension": DIMENSION,
            "MinCapacity": 1,
            "MaxCapacity": 3,
        },
    )
    aws.asg.add_response(
        "put_scaling_policy",
        {
            "PolicyARN": POLICY_ARN,
            "Alarms": [],
        },
        {
            "PolicyName": "twin-invocations-per-instance",
            "ServiceNamespace": "sagemaker",
            "ResourceId": RESOURCE,
            "ScalableDimension": DIMENSION,
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 10.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        },
    )
    aws.deploy()
    assert aws.calls == [
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
        "DescribeEndpoint",
        "DescribeEndpoint",
        "RegisterScalableTarget",
        "PutScalingPolicy",
    ]


def test_a_hub_id_is_served_by_tgi_with_the_token(aws: Aws) -> None:
    aws.expect_model(
        {
            "Image": IMAGE,
            "Environment": {**TGI_ENV, "HF_MODEL_ID": "mlabonne/TwinLlama-3.1-8B", "HUGGING_FACE_HUB_TOKEN": "hf_x"},
        }
    )
    aws.sm_fail(
        "create_endpoint_config",
        "ResourceLimitExceeded",
        "quota",
        {"EndpointConfigName": "twin", "ProductionVariants": ANY},
    )
    aws.expect_deletes("model")
    with pytest.raises(EndpointDeployError, match=r"ResourceLimitExceeded.*Nothing was left behind"):
        aws.deploy("mlabonne/TwinLlama-3.1-8B", hf_token="hf_x")
    assert aws.calls == ["CreateModel", "CreateEndpointConfig", "DeleteModel"]


def test_an_s3_folder_is_served_uncompressed(aws: Aws) -> None:
    aws.expect_model(
        {
            "Image": IMAGE,
            "Environment": {**TGI_ENV, "HF_MODEL_ID": "/opt/ml/model"},
            "ModelDataSource": {
                "S3DataSource": {
                    "S3Uri": "s3://twin-models/TwinLlama/3/merged/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            },
        }
    )
    aws.sm_fail("create_endpoint_config", "ValidationException", "stop here", None)
    aws.expect_deletes("model")
    with pytest.raises(EndpointDeployError, match="stop here"):
        aws.deploy("s3://twin-models/TwinLlama/3/merged")


def test_the_cli_has_help_for_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["sagemaker", "--help"]) == 0
    usage = capsys.readouterr().out
    assert all(command in usage for command in ("deploy", "test", "delete"))


def test_create_endpoint_failing_removes_the_config_and_the_model(aws: Aws) -> None:
    aws.expect_model(ANY)  # type: ignore[arg-type]
    aws.expect_config()
    aws.sm_fail(
        "create_endpoint",
        "ValidationException",
        "role cannot be assumed",
        {"EndpointName": "twin", "EndpointConfigName": "twin"},
    )
    aws.expect_deletes("endpoint_config", "model")
    with pytest.raises(EndpointDeployError, match="role cannot be assumed"):
        aws.deploy()
    assert aws.calls[-2:] == ["DeleteEndpointConfig", "DeleteModel"]


def test_an_endpoint_that_fails_to_start_is_removed_with_its_reason(aws: Aws) -> None:
    aws.expect_model(ANY)  # type: ignore[arg-type]
    aws.expect_config()
    aws.expect_endpoint()
    aws.expect_status("Failed", FailureReason="CUDA out of memory")
    aws.expect_deletes("endpoint", "endpoint_config", "model")
    with pytest.raises(EndpointDeployError, match="CUDA out of memory"):
        aws.deploy()
    assert aws.calls[-3:] == ["DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]


def test_a_policy_failure_deregisters_the_target_and_removes_everything(aws: Aws) -> None:
    aws.expect_model(ANY)  # type: ignore[arg-type]
    aws.expect_config()
    aws.expect_endpoint()
    aws.expect_status("InService")
    aws.asg.add_response("register_scalable_target", {}, None)
    aws.asg.add_client_error("put_scaling_policy", "AccessDeniedException", "not allowed", 400)
    aws.asg.add_response(
        "deregister_scalable_target",
        {},
        {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": DIMENSION},
    )
    aws.expect_deletes("endpoint", "endpoint_config", "model")
    with pytest.raises(EndpointDeployError, match="AccessDeniedException"):
        aws.deploy()
    assert aws.calls[-5:] == [
        "PutScalingPolicy",
        "DeregisterScalableTarget",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
    ]


def test_delete_removes_autoscaling_endpoint_config_and_model_and_skips_what_is_gone(aws: Aws) -> None:
    aws.asg.add_response(
        "deregister_scalable_target",
        {},
        {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": DIMENSION},
    )
    aws.expect_deletes("endpoint", "endpoint_config", "model")
    deleted = delete_endpoint(make_spec(), sagemaker=aws.sagemaker, autoscaling=aws.autoscaling)
    assert deleted == ["autoscaling target", "endpoint twin", "endpoint config twin", "model twin"]
    aws.asg.add_client_error("deregister_scalable_target", "ObjectNotFoundException", "No scalable target found", 400)
    aws.sm_fail("delete_endpoint", "ValidationException", "Could not find endpoint twin", {"EndpointName": "twin"})
    aws.sm_fail("delete_endpoint_config", "ValidationException", "Could not find endpoint configuration", None)
    aws.sm_fail("delete_model", "ValidationException", "Could not find model twin", {"ModelName": "twin"})
    assert delete_endpoint(make_spec(), sagemaker=aws.sagemaker, autoscaling=aws.autoscaling) == []


def test_delete_reports_what_it_could_not_remove(aws: Aws) -> None:
    aws.asg.add_response("deregister_scalable_target", {}, None)
    aws.sm_fail("delete_endpoint", "AccessDeniedException", "no sagemaker:DeleteEndpoint", {"EndpointName": "twin"})
    aws.expect_deletes("endpoint_config", "model")
    with pytest.raises(EndpointDeployError, match=r"endpoint twin: AccessDeniedException"):
        delete_endpoint(make_spec(), sagemaker=aws.sagemaker, autoscaling=aws.autoscaling)


def test_the_endpoint_test_sends_one_tgi_request() -> None:
    runtime = boto3.client(
        "sagemaker-runtime", region_name="eu-central-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    sent: list[dict[str, Any]] = []
    runtime.meta.events.register(
        "before-parameter-build.sagemaker-runtime.InvokeEndpoint",
        lambda params, **_: sent.append(json.loads(params["Body"])),
    )
    data = json.dumps([{"generated_text": "Use spot instances."}]).encode()
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentType": "application/json"},
            {"EndpointName": "twin", "ContentType": "application/json", "Accept": "application/json", "Body": ANY},
        )
        assert call_endpoint_once(make_spec(), runtime) == "Use spot instances."
    assert sent[0]["parameters"]["max_new_tokens"] == 64 and "Maya Okafor" in sent[0]["inputs"]


def test_the_tgi_image_comes_from_the_sdks_table_offline() -> None:
    uri = tgi_image_uri(replace(make_spec(), tgi_version="3.2.3"))
    assert uri.startswith("763104351884.dkr.ecr.eu-central-1.amazonaws.com/huggingface-pytorch-tgi-inference:")
    assert "tgi3.2.3" in uri


def test_settings_are_checked_before_any_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(EndpointDeployError, match="AWS_ARN_ROLE"):
        EndpointSpec.from_settings(load_settings(_env_file=None))
    monkeypatch.setenv("AWS_ARN_ROLE", ROLE)
    from llm_engineering.settings import get_settings

    get_settings.cache_clear()
    try:
        assert llm_twin(["sagemaker", "deploy"]) == 2
    finally:
        get_settings.cache_clear()
    assert "--model" in capsys.readouterr().err
