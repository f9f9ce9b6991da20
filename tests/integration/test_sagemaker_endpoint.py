"""Deploy, test and delete of the SageMaker endpoint on moto's SageMaker, application-autoscaling and
sagemaker-runtime (server mode, through AWS_ENDPOINT_URL): the request sequence, what exists afterwards, and the
clean-up when a step fails half-way. A failure moto cannot produce comes from botocore's Stubber on a real client."""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from llm_engineering.domain.exceptions import EndpointDeployError
from llm_engineering.infrastructure.aws.clients import autoscaling_client, runtime_client, sagemaker_client
from llm_engineering.infrastructure.aws.endpoint import (
    EndpointSpec,
    call_endpoint_once,
    delete_endpoint,
    deploy_endpoint,
    tgi_image_uri,
)
from llm_engineering.settings import Settings, load_settings
from tests.aws_support import REGION, LocalAWS, aws_emulator  # noqa: F401 - the fixture, used by name below
from tests.cli_support import llm_twin
from tests.integration.test_llm_sagemaker import bodies_received, queue_answers

ROLE = "arn:aws:iam::123456789012:role/twin-sagemaker"
IMAGE = "763104351884.dkr.ecr.eu-central-1.amazonaws.com/huggingface-pytorch-tgi-inference:tgi3.2.3"
ARTIFACT = "s3://twin-models/TwinLlama/3/model.tar.gz"
RESOURCE = "endpoint/twin/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
ENDPOINT_ARN = "arn:aws:sagemaker:eu-central-1:123456789012:endpoint/twin"
# moto's endpoint configs take only the instance types on its own list, which lacks the g5 family (the default).
EMULATED_INSTANCE_TYPE = "ml.g4dn.xlarge"
TGI_ENV = {"SM_NUM_GPUS": "1", "MAX_INPUT_LENGTH": "2048", "MAX_TOTAL_TOKENS": "4096", "MAX_BATCH_TOTAL_TOKENS": "4096"}
DELETED = ["autoscaling target", "endpoint twin", "endpoint config twin", "model twin"]


def endpoint_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "_env_file": None,
        "AWS_ARN_ROLE": ROLE,
        "SAGEMAKER_MIN_REPLICAS": 1,
        "SAGEMAKER_MAX_REPLICAS": 3,
        "AWS_REGION": REGION,
        **overrides,
    }
    return load_settings(**values)


def make_spec() -> EndpointSpec:
    return EndpointSpec.from_settings(endpoint_settings())


def client(service: str) -> Any:
    """A plain boto3 client on the emulator, for the test's own checks."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def emulated_resources() -> dict[str, list[Any]]:
    """What the emulator holds: SageMaker models, endpoint configs and endpoints, and scalable targets."""
    sagemaker = client("sagemaker")
    return {
        "models": sagemaker.list_models()["Models"],
        "endpoint configs": sagemaker.list_endpoint_configs()["EndpointConfigs"],
        "endpoints": sagemaker.list_endpoints()["Endpoints"],
        "targets": client("application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")[
            "ScalableTargets"
        ],
    }


NOTHING: dict[str, list[Any]] = {"models": [], "endpoint configs": [], "endpoints": [], "targets": []}


@dataclass
class Emulated:
    """The project's own `sagemaker` and `application-autoscaling` clients on the emulator, and the calls made."""

    settings: Settings
    sagemaker: Any
    autoscaling: Any
    calls: list[str] = field(default_factory=list)

    def record(self, boto_client: Any) -> Any:
        """Add the client's calls to `calls`, in order; the client."""
        boto_client.meta.events.register("before-call.*.*", lambda model, **_: self.calls.append(model.name))
        return boto_client

    @property
    def spec(self) -> EndpointSpec:
        return EndpointSpec.from_settings(self.settings)

    def deploy(self, location: str = ARTIFACT, spec: EndpointSpec | None = None, **kwargs: Any) -> None:
        deploy_endpoint(
            spec or self.spec,
            location,
            sagemaker=kwargs.pop("sagemaker", self.sagemaker),
            autoscaling=kwargs.pop("autoscaling", self.autoscaling),
            image_uri=IMAGE,
            poll_s=0,
            sleep=lambda _s: None,
            **kwargs,
        )


@pytest.fixture
def emulated(aws_emulator: LocalAWS) -> Emulated:  # noqa: F811 - the fixture imported above
    settings = endpoint_settings(GPU_INSTANCE_TYPE=EMULATED_INSTANCE_TYPE)
    aws = Emulated(settings, sagemaker_client(settings), autoscaling_client(settings))
    aws.record(aws.sagemaker)
    aws.record(aws.autoscaling)
    return aws


def test_deploy_creates_model_config_endpoint_then_autoscales(emulated: Emulated) -> None:
    emulated.deploy()
    assert emulated.calls == [
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
        "DescribeEndpoint",
        "RegisterScalableTarget",
        "PutScalingPolicy",
    ]
    sagemaker = client("sagemaker")
    model = sagemaker.describe_model(ModelName="twin")
    assert model["ExecutionRoleArn"] == ROLE
    assert model["PrimaryContainer"] == {
        "Image": IMAGE,
        "Environment": {**TGI_ENV, "HF_MODEL_ID": "/opt/ml/model"},
        "ModelDataUrl": ARTIFACT,
    }
    (variant,) = sagemaker.describe_endpoint_config(EndpointConfigName="twin")["ProductionVariants"]
    assert variant == {
        "VariantName": "AllTraffic",
        "ModelName": "twin",
        "InitialInstanceCount": 1,
        "InstanceType": EMULATED_INSTANCE_TYPE,
        "ContainerStartupHealthCheckTimeoutInSeconds": 900,
    }
    endpoint = sagemaker.describe_endpoint(EndpointName="twin")
    assert (endpoint["EndpointConfigName"], endpoint["EndpointStatus"]) == ("twin", "InService")
    autoscaling = client("application-autoscaling")
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["ScalableDimension"]) == (RESOURCE, DIMENSION)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    (policy,) = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert (policy["PolicyName"], policy["PolicyType"]) == ("twin-invocations-per-instance", "TargetTrackingScaling")
    assert (policy["ResourceId"], policy["ScalableDimension"]) == (RESOURCE, DIMENSION)
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "TargetValue": 10.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 60,
    }


def test_a_hub_id_is_served_by_tgi_with_the_token(emulated: Emulated) -> None:
    emulated.deploy("mlabonne/TwinLlama-3.1-8B", hf_token="hf_x")
    container = client("sagemaker").describe_model(ModelName="twin")["PrimaryContainer"]
    assert container == {
        "Image": IMAGE,
        "Environment": {**TGI_ENV, "HF_MODEL_ID": "mlabonne/TwinLlama-3.1-8B", "HUGGING_FACE_HUB_TOKEN": "hf_x"},
    }


def test_an_s3_folder_is_served_uncompressed(emulated: Emulated) -> None:
    emulated.deploy("s3://twin-models/TwinLlama/3/merged")
    container = client("sagemaker").describe_model(ModelName="twin")["PrimaryContainer"]
    assert container == {
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


def test_a_refused_endpoint_config_removes_the_model(emulated: Emulated) -> None:
    unknown_instance = replace(emulated.spec, instance_type="ml.no-such.xlarge")  # refused by AWS and moto alike
    with pytest.raises(
        EndpointDeployError, match=r"ValidationException: .*ml\.no-such\.xlarge.*Nothing was left behind"
    ):
        emulated.deploy(spec=unknown_instance)
    assert emulated.calls == ["CreateModel", "CreateEndpointConfig", "DeleteModel"]
    assert emulated_resources() == NOTHING


def test_the_cli_has_help_for_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["sagemaker", "--help"]) == 0
    usage = capsys.readouterr().out
    assert all(command in usage for command in ("deploy", "test", "delete"))


class Stubbed:
    """Real `sagemaker` and `application-autoscaling` clients, each with a Stubber holding the expected calls."""

    def __init__(self) -> None:
        keys = {"region_name": REGION, "aws_access_key_id": "test", "aws_secret_access_key": "test"}
        self.sagemaker = boto3.client("sagemaker", **keys)  # type: ignore[call-overload]
        self.autoscaling = boto3.client("application-autoscaling", **keys)  # type: ignore[call-overload]
        self.sm = Stubber(self.sagemaker)
        self.asg = Stubber(self.autoscaling)
        self.calls: list[str] = []
        for boto_client in (self.sagemaker, self.autoscaling):
            boto_client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: object) -> None:
        self.calls.append(model.name)

    def sm_ok(self, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
        self.sm.add_response(operation, response, params)

    def sm_fail(self, operation: str, code: str, message: str, params: dict[str, Any] | None) -> None:
        self.sm.add_client_error(operation, code, message, 400, expected_params=params)

    def expect_model(self) -> None:
        self.sm_ok(
            "create_model",
            {"ModelArn": "arn:aws:sagemaker:eu-central-1:123456789012:model/twin"},
            {"ModelName": "twin", "ExecutionRoleArn": ROLE, "PrimaryContainer": ANY},
        )

    def expect_config(self) -> None:
        self.sm_ok(
            "create_endpoint_config",
            {"EndpointConfigArn": "arn:aws:sagemaker:eu-central-1:123456789012:endpoint-config/twin"},
            {"EndpointConfigName": "twin", "ProductionVariants": ANY},
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

    def deploy(self) -> None:
        deploy_endpoint(
            make_spec(),
            ARTIFACT,
            sagemaker=self.sagemaker,
            autoscaling=self.autoscaling,
            image_uri=IMAGE,
            poll_s=0,
            sleep=lambda _s: None,
        )


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    aws = Stubbed()
    with aws.sm, aws.asg:
        yield aws
        aws.sm.assert_no_pending_responses()
        aws.asg.assert_no_pending_responses()


# Stubber: moto's CreateEndpoint never fails once its endpoint config exists.
def test_create_endpoint_failing_removes_the_config_and_the_model(stubbed: Stubbed) -> None:
    stubbed.expect_model()
    stubbed.expect_config()
    stubbed.sm_fail(
        "create_endpoint",
        "ValidationException",
        "role cannot be assumed",
        {"EndpointName": "twin", "EndpointConfigName": "twin"},
    )
    stubbed.expect_deletes("endpoint_config", "model")
    with pytest.raises(EndpointDeployError, match="role cannot be assumed"):
        stubbed.deploy()
    assert stubbed.calls[-2:] == ["DeleteEndpointConfig", "DeleteModel"]


# Stubber: moto's endpoints are InService from their creation on; none is ever Creating or Failed.
def test_an_endpoint_that_fails_to_start_is_waited_for_then_removed_with_its_reason(stubbed: Stubbed) -> None:
    stubbed.expect_model()
    stubbed.expect_config()
    stubbed.sm_ok(
        "create_endpoint", {"EndpointArn": ENDPOINT_ARN}, {"EndpointName": "twin", "EndpointConfigName": "twin"}
    )
    stubbed.expect_status("Creating")
    stubbed.expect_status("Failed", FailureReason="CUDA out of memory")
    stubbed.expect_deletes("endpoint", "endpoint_config", "model")
    with pytest.raises(EndpointDeployError, match="CUDA out of memory"):
        stubbed.deploy()
    assert stubbed.calls[-5:] == [
        "DescribeEndpoint",
        "DescribeEndpoint",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
    ]


def test_a_policy_failure_deregisters_the_target_and_removes_everything(emulated: Emulated) -> None:
    # Stubber for autoscaling only: moto accepts every target-tracking policy, so PutScalingPolicy cannot fail there.
    autoscaling = emulated.record(client("application-autoscaling"))
    with Stubber(autoscaling) as asg:
        asg.add_response("register_scalable_target", {}, None)
        asg.add_client_error("put_scaling_policy", "AccessDeniedException", "not allowed", 400)
        asg.add_response(
            "deregister_scalable_target",
            {},
            {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": DIMENSION},
        )
        with pytest.raises(EndpointDeployError, match="AccessDeniedException: not allowed"):
            emulated.deploy(autoscaling=autoscaling)
        asg.assert_no_pending_responses()
    assert emulated.calls[-5:] == [
        "PutScalingPolicy",
        "DeregisterScalableTarget",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
    ]
    assert emulated_resources() == NOTHING


def test_delete_removes_autoscaling_endpoint_config_and_model_and_skips_what_is_gone(emulated: Emulated) -> None:
    emulated.deploy()
    assert delete_endpoint(emulated.spec, sagemaker=emulated.sagemaker, autoscaling=emulated.autoscaling) == DELETED
    assert emulated_resources() == NOTHING
    assert delete_endpoint(emulated.spec, sagemaker=emulated.sagemaker, autoscaling=emulated.autoscaling) == []


def test_delete_reports_what_it_could_not_remove(emulated: Emulated) -> None:
    # Stubber for SageMaker only: moto checks IAM only when a whole process opts in, so it refuses no single call.
    sagemaker = client("sagemaker")
    with Stubber(sagemaker) as sm:
        sm.add_client_error(
            "delete_endpoint", "AccessDeniedException", "no sagemaker:DeleteEndpoint", 400, {"EndpointName": "twin"}
        )
        sm.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "twin"})
        sm.add_response("delete_model", {}, {"ModelName": "twin"})
        with pytest.raises(EndpointDeployError) as raised:
            delete_endpoint(emulated.spec, sagemaker=sagemaker, autoscaling=emulated.autoscaling)
        sm.assert_no_pending_responses()
    assert str(raised.value).startswith(
        "Could not delete endpoint twin: AccessDeniedException: no sagemaker:DeleteEndpoint."
    )
    assert "\n" not in str(raised.value)


def test_the_endpoint_test_sends_one_tgi_request(emulated: Emulated, aws_emulator: LocalAWS) -> None:  # noqa: F811
    queue_answers(aws_emulator, [{"generated_text": "Use spot instances."}])
    assert call_endpoint_once(emulated.spec, runtime_client(emulated.settings)) == "Use spot instances."
    (sent,) = bodies_received()
    assert sent["parameters"]["max_new_tokens"] == 64 and "Maya Okafor" in sent["inputs"]


def test_the_cli_deploys_tests_and_deletes_on_the_emulator(
    aws_emulator: LocalAWS,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from llm_engineering.settings import get_settings

    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("AWS_ARN_ROLE", ROLE)
    monkeypatch.setenv("GPU_INSTANCE_TYPE", EMULATED_INSTANCE_TYPE)
    for name in (
        "AWS_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "SAGEMAKER_ENDPOINT_INFERENCE",
        "SAGEMAKER_ENDPOINT_CONFIG_INFERENCE",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        assert llm_twin(["sagemaker", "deploy", "--model", ARTIFACT]) == 0
        assert "Endpoint twin is InService" in capsys.readouterr().out
        queue_answers(aws_emulator, [{"generated_text": "Use spot instances."}])
        assert llm_twin(["sagemaker", "test"]) == 0
        assert capsys.readouterr().out.strip() == "Use spot instances."
        assert llm_twin(["sagemaker", "delete"]) == 0
        assert capsys.readouterr().out.strip() == "Deleted: " + ", ".join(DELETED)
    finally:
        get_settings.cache_clear()
    assert emulated_resources() == NOTHING


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
