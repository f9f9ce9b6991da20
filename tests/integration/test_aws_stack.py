"""deploy/aws/llm-twin.yaml on moto's CloudFormation (server mode, reached through AWS_ENDPOINT_URL): deploy through a
change set, the resources it makes, an update, a deploy with no changes, delete; each refusal is one line.

What moto (5.2) does not model is checked on the template only, by cfn-lint and checkov
(tests/integration/test_aws_template_lint.py):
- resource types its CloudFormation skips (with a warning): NOT_MODELLED below, asserted against moto's own registry;
- properties it drops: the bucket's PublicAccessBlockConfiguration, VersioningConfiguration, LifecycleConfiguration and
  OwnershipControls; the repository's ImageScanningConfiguration and EncryptionConfiguration (describe_repositories
  answers them empty);
- behaviour: it names the endpoint after the stack, not EndpointName; it computes no Outputs for a stack made by a
  change set (only CreateStack does: test_outputs_resolve_to_the_created_resources uses that); after an update that
  replaces the endpoint config it leaves the endpoint on the old one; it never rolls back, so ROLLBACK_COMPLETE is set
  on its stack by hand; it cannot update an AWS::Logs::LogGroup in place, so the update here changes InstanceType;
  it deletes no API Gateway resource with the stack.
"""

import ast
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import resource_class_from_type
from moto.core.models import DEFAULT_ACCOUNT_ID

from llm_engineering.infrastructure.aws.stack import (
    DEFAULT_STACK_NAME,
    TEMPLATE_PATH,
    parse_template,
    stack_outputs,
)
from llm_engineering.settings import load_settings
from tests.aws_support import REGION, aws_cli, aws_emulator  # noqa: F401 - fixtures, used by name
from tests.cli_support import llm_twin

# Every test runs the CLI on the emulator; moto warns on the resource types it skips.
pytestmark = [pytest.mark.usefixtures("aws_cli"), pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")]

STACK = DEFAULT_STACK_NAME
# The service image: any ECR URI will do, the emulator pulls nothing.
IMAGE = f"{DEFAULT_ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/llm-twin:0123abc"
NOT_MODELLED = {
    "AWS::S3::BucketPolicy",
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
}
ROLES = ("llm-twin-sagemaker-execution", "llm-twin-pipelines", "llm-twin-api-invoke", "llm-twin-apigateway-logs")
LOG_GROUPS = ("/llm-twin/pipelines", "/aws/sagemaker/Endpoints/llm-twin-rag", "/aws/apigateway/llm-twin-rag")


def client(service: str) -> Any:
    """A plain boto3 client on the emulator (the environment the fixture set), for the test's own checks."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def physical_ids() -> dict[str, str]:
    """The stack's resources that moto made: logical id -> physical id."""
    summaries = client("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries if r.get("PhysicalResourceId")}


def name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def inline_policy(role: str, policy: str) -> dict[str, Any]:
    document = client("iam").get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    # moto answers a CloudFormation role's inline policy as Python's repr of the dict, not as JSON.
    return document if isinstance(document, dict) else dict(ast.literal_eval(document))


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_moto_models_every_resource_type_but_those_named_here() -> None:
    types = {resource["Type"] for resource in parse_template(TEMPLATE_PATH.read_text())["Resources"].values()}
    assert types >= NOT_MODELLED
    assert {t for t in types if resource_class_from_type(t) is None} == NOT_MODELLED


def test_the_template_sets_what_moto_drops() -> None:
    resources = parse_template(TEMPLATE_PATH.read_text())["Resources"]
    bucket = resources["ArtifactBucket"]
    assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["Properties"]["PublicAccessBlockConfiguration"]) == 4
    assert bucket["DeletionPolicy"] == "Retain"
    assert resources["ServiceRepository"]["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}
    stage = resources["RagStage"]["Properties"]["MethodSettings"][0]
    assert stage["ThrottlingRateLimit"] == {"Ref": "ThrottleRate"} and stage["DataTraceEnabled"] is False
    plan = resources["RagUsagePlan"]["Properties"]
    assert plan["Quota"]["Limit"] == {"Ref": "QuotaLimit"} and plan["Throttle"]["BurstLimit"] == {
        "Ref": "ThrottleBurst"
    }
    policy = resources["ServiceScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


def test_deploy_creates_the_resources_and_delete_removes_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["aws", "deploy-stack", "--image-uri", IMAGE]) == 0
    out = capsys.readouterr().out
    # The change set comes first, one line per resource, then its application.
    assert f"(CREATE) for stack {STACK}:" in out.splitlines()[0]
    assert f"parameter ImageUri = '{IMAGE}'" in out
    assert "Add     ServiceEndpoint" in out and "AWS::ApplicationAutoScaling::ScalingPolicy" in out
    assert out.index("Add     RagUsagePlanKey") < out.index("Applying the change set") < out.index("CREATE_COMPLETE")
    assert "testing" not in out  # the emulator's secret key, like any credential, is never printed
    ids = physical_ids()

    s3 = client("s3")
    rules = s3.get_bucket_encryption(Bucket=ids["ArtifactBucket"])["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    (repository,) = client("ecr").describe_repositories(repositoryNames=["llm-twin"])["repositories"]
    assert repository["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    # Mutable: `latest` (cd.yaml moves it) and the tags ZenML pushes again for each pipeline's images.
    assert repository["imageTagMutabilityExclusionFilters"] == [
        {"filterType": "WILDCARD", "filter": tag} for tag in ("latest", "*-orchestrator", "*-sagemaker_step_operator")
    ]

    iam = client("iam")
    for role in ROLES:
        assert iam.get_role(RoleName=role)["Role"]["Arn"].endswith(f":role/{role}")
    trust = iam.get_role(RoleName="llm-twin-sagemaker-execution")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    invoke = inline_policy("llm-twin-api-invoke", "invoke-rag-endpoint")["Statement"]
    assert invoke == [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": ids["ServiceEndpoint"]}]
    for role, policy in (("llm-twin-sagemaker-execution", "sagemaker-execution"), ("llm-twin-pipelines", "pipelines")):
        for statement in inline_policy(role, policy)["Statement"]:  # no `*` action, and `*` only where AWS has no ARN
            assert "*" not in str(statement["Action"]) or statement["Resource"] != "*", statement
            if statement["Resource"] == "*":
                assert statement["Action"] in ("ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"), statement

    sagemaker = client("sagemaker")
    model = sagemaker.describe_model(ModelName=name_of(ids["ServiceModel"]))
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["ExecutionRoleArn"] == iam.get_role(RoleName=ROLES[0])["Role"]["Arn"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=name_of(ids["ServiceEndpointConfig"]))
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 1)
    endpoint = sagemaker.describe_endpoint(EndpointName=name_of(ids["ServiceEndpoint"]))
    assert endpoint["EndpointConfigName"] == config["EndpointConfigName"]

    log_groups = (*LOG_GROUPS, f"API-Gateway-Execution-Logs_{ids['RagApi']}/v1")
    groups = {g["logGroupName"]: g for g in client("logs").describe_log_groups()["logGroups"]}
    assert {name: groups[name].get("retentionInDays") for name in log_groups} == dict.fromkeys(log_groups, 30)

    apigateway = client("apigateway")
    assert apigateway.get_rest_api(restApiId=ids["RagApi"])["apiKeySource"] == "HEADER"
    method = apigateway.get_method(restApiId=ids["RagApi"], resourceId=ids["RagResource"], httpMethod="POST")
    assert method["apiKeyRequired"] is True
    assert method["methodIntegration"]["uri"].endswith(
        f"runtime.sagemaker:path/endpoints/{endpoint['EndpointName']}/invocations"
    )

    assert llm_twin(["aws", "delete-stack"]) == 0
    out = capsys.readouterr().out
    assert f"Deleted stack {STACK}." in out
    assert f"kept (DeletionPolicy Retain): ArtifactBucket (AWS::S3::Bucket) {ids['ArtifactBucket']}" in out
    with pytest.raises(ClientError, match="does not exist"):
        client("cloudformation").describe_stacks(StackName=STACK)
    s3.head_bucket(Bucket=ids["ArtifactBucket"])  # kept: it holds the pipelines' artifacts
    assert client("ecr").describe_repositories()["repositories"] == []
    for role in ROLES:
        with pytest.raises(ClientError, match=r"NoSuchEntity|cannot be found"):
            iam.get_role(RoleName=role)
    assert sagemaker.list_endpoints()["Endpoints"] == sagemaker.list_models()["Models"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert not set(log_groups) & {g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]}
    # moto deletes no AWS::ApiGateway::* resource with its stack: the REST API outlives it on the emulator only.
    assert [api["id"] for api in apigateway.get_rest_apis()["items"]] == [ids["RagApi"]]


def test_the_service_gets_its_warehouse_vector_store_and_llm_in_its_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = "mongodb+srv://twin:s3cret@cluster0.example.mongodb.net"
    qdrant = "https://abc-123.eu-central.aws.cloud.qdrant.io:6333"
    stores = [f"DatabaseHost={database}", f"QdrantCloudUrl={qdrant}", "QdrantApiKey=qdrant-k3y"]
    llm = ["LlmBackend=sagemaker", "LlmEndpointName=twin-tgi"]
    # A secret that breaks its pattern is refused without being printed.
    assert llm_twin(["aws", "deploy-stack", "-p", "DatabaseHost=postgres://twin:s3cret@db"]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert "DatabaseHost '****' does not match" in line and "s3cret" not in line
    assert llm_twin(["aws", "deploy-stack", "--image-uri", IMAGE, *(f"--parameter={p}" for p in stores + llm)]) == 0
    printed = capsys.readouterr()
    # The change set names the NoEcho parameters, but shows neither the password nor the key.
    assert "parameter DatabaseHost = '****'" in printed.out and "parameter QdrantApiKey = '****'" in printed.out
    assert "s3cret" not in printed.out + printed.err and "qdrant-k3y" not in printed.out + printed.err

    model = client("sagemaker").describe_model(ModelName=name_of(physical_ids()["ServiceModel"]))
    environment = model["PrimaryContainer"]["Environment"]
    assert environment == {
        "API_SAGEMAKER_PORT": "8080",
        "API_ALLOW_NO_KEY": "true",
        "AWS_REGION": REGION,
        "DATABASE_HOST": database,
        "USE_QDRANT_CLOUD": "true",
        "QDRANT_CLOUD_URL": qdrant,
        "QDRANT_APIKEY": "qdrant-k3y",
        "LLM_BACKEND": "sagemaker",
        "SAGEMAKER_ENDPOINT_INFERENCE": "twin-tgi",
    }
    # The container's settings, read from that environment: the cloud stores and the TGI endpoint.
    settings = load_settings(_env_file=None, **environment)
    assert (settings.mongo_uri, settings.qdrant_backend, settings.QDRANT_CLOUD_URL) == (database, "cloud", qdrant)
    assert settings.QDRANT_APIKEY is not None and settings.QDRANT_APIKEY.get_secret_value() == "qdrant-k3y"
    assert (settings.LLM_BACKEND, settings.SAGEMAKER_ENDPOINT_INFERENCE, settings.AWS_REGION) == (
        "sagemaker",
        "twin-tgi",
        REGION,
    )
    # The role the container runs as may invoke that endpoint, and only that one.
    (statement,) = inline_policy(ROLES[0], "invoke-tgi-endpoint")["Statement"]
    assert statement["Resource"] == f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:endpoint/twin-tgi"
    assert statement["Action"] == ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]


def test_update_prints_the_change_keeps_the_rest_and_a_second_deploy_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert llm_twin(["aws", "deploy-stack", "--image-uri", IMAGE, "-p", "QuotaLimit=500"]) == 0
    capsys.readouterr()

    # Only InstanceType is given: ImageUri and QuotaLimit keep their values, the others their defaults.
    assert llm_twin(["aws", "deploy-stack", "--parameter", "InstanceType=ml.m5.xlarge"]) == 0
    out = capsys.readouterr().out
    assert f"(UPDATE) for stack {STACK}:" in out.splitlines()[0]
    assert "parameter InstanceType: 'ml.m5.large' -> 'ml.m5.xlarge'" in out
    assert "ImageUri" not in out and "QuotaLimit" not in out
    assert (
        out.index("ml.m5.xlarge") < out.index("Applying the change set") < out.index(f"Stack {STACK}: UPDATE_COMPLETE")
    )
    (stack,) = client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert (parameters["ImageUri"], parameters["QuotaLimit"], parameters["InstanceType"]) == (
        IMAGE,
        "500",
        "ml.m5.xlarge",
    )
    ids = physical_ids()
    config = client("sagemaker").describe_endpoint_config(EndpointConfigName=name_of(ids["ServiceEndpointConfig"]))
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.xlarge"
    assert (
        client("sagemaker").describe_model(ModelName=name_of(ids["ServiceModel"]))["PrimaryContainer"]["Image"] == IMAGE
    )

    # The same template and values again: one clear line, and no change set left behind.
    for args in (["aws", "deploy-stack"], ["aws", "deploy-stack", "-p", "InstanceType=ml.m5.xlarge"]):
        assert llm_twin(args) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[0] == f"Stack {STACK} is up to date: no changes."
        assert "Applying" not in out
    summaries = client("cloudformation").list_change_sets(StackName=STACK)["Summaries"]
    assert [s for s in summaries if s["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []
    assert physical_ids() == ids


def test_outputs_resolve_to_the_created_resources(capsys: pytest.CaptureFixture[str]) -> None:
    # moto computes Outputs for CreateStack only, not for a change set: the template goes in through CreateStack here.
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[{"ParameterKey": "ImageUri", "ParameterValue": IMAGE}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    outputs = stack_outputs(cloudformation, STACK)
    ids = physical_ids()
    account = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role"
    assert outputs["BucketName"] == ids["ArtifactBucket"]
    assert outputs["RepositoryUri"] == f"{DEFAULT_ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/llm-twin"
    assert outputs["SageMakerExecutionRoleArn"] == f"{account}/llm-twin-sagemaker-execution"
    assert outputs["PipelineRoleArn"] == f"{account}/llm-twin-pipelines"
    assert outputs["EndpointName"] == name_of(ids["ServiceEndpoint"])
    assert outputs["ApiUrl"] == f"https://{ids['RagApi']}.execute-api.{REGION}.amazonaws.com/v1/rag"
    assert "ApiKeyId" not in outputs  # Ref of an AWS::ApiGateway::ApiKey, which moto does not model

    assert llm_twin(["aws", "outputs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Stack {STACK}: CREATE_COMPLETE"
    assert f"  BucketName = {ids['ArtifactBucket']}" in lines


def test_a_rolled_back_stack_is_refused_in_one_line_and_kept(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["aws", "deploy-stack"]) == 0  # no image yet: the bucket, the repository, the roles, the logs
    capsys.readouterr()
    ids = physical_ids()
    # moto never rolls back: its stack gets the status a failed creation leaves.
    (stack,) = [s for s in cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].stacks.values() if s.name == STACK]
    stack.status = "ROLLBACK_COMPLETE"

    assert llm_twin(["aws", "deploy-stack", "--image-uri", IMAGE]) == 1
    captured = capsys.readouterr()
    (line,) = error_lines(captured.err)
    assert "ROLLBACK_COMPLETE" in line and "poe delete-aws-stack" in line and "Nothing was changed" in line
    assert "Change set" not in captured.out
    assert client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert len(client("cloudformation").list_change_sets(StackName=STACK)["Summaries"]) == 1  # the first deploy's
    assert physical_ids() == ids and client("sagemaker").list_endpoints()["Endpoints"] == []

    assert llm_twin(["aws", "delete-stack"]) == 0  # what the line says to do
    assert f"Deleted stack {STACK}." in capsys.readouterr().out


def test_no_credentials_is_one_line_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with monkeypatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.delenv(name, raising=False)
        for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
            env.delenv(name, raising=False)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
        env.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setattr(boto3, "DEFAULT_SESSION", None)  # boto3's default session keeps the credentials it found
        for args in (["aws", "deploy-stack", "--image-uri", IMAGE], ["aws", "delete-stack"], ["aws", "outputs"]):
            assert llm_twin(args) == 1
            captured = capsys.readouterr()
            (line,) = error_lines(captured.err)
            assert "No AWS credentials" in line and "AWS_ACCESS_KEY and AWS_SECRET_KEY" in line, line
    assert client("cloudformation").list_stacks()["StackSummaries"] == []


def test_bad_parameters_and_a_missing_stack_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["aws", "deploy-stack", "-p", "NoSuchParameter=1"]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert "no parameter NoSuchParameter" in line and "ImageUri" in line
    assert llm_twin(["aws", "deploy-stack", "-p", "ImageUri"]) == 2  # not KEY=VALUE: a usage error
    capsys.readouterr()
    assert llm_twin(["aws", "deploy-stack", "--image-uri", "docker.io/someone/else:1"]) == 1  # the template's pattern
    (line,) = error_lines(capsys.readouterr().err)
    assert "ImageUri" in line
    assert llm_twin(["aws", "deploy-stack", "-p", "MinReplicas=0", "-p", "LogRetentionDays=31"]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert "MinReplicas" in line and "LogRetentionDays" in line
    assert client("cloudformation").list_stacks()["StackSummaries"] == []  # none of them reached CloudFormation

    assert llm_twin(["aws", "outputs"]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert line == f"error: There is no stack {STACK}: deploy it with `poe deploy-aws-stack`."
    assert llm_twin(["aws", "delete-stack"]) == 0
    assert capsys.readouterr().out.strip() == f"There is no stack {STACK}: nothing to delete."


def test_the_rag_service_is_deployed_from_an_ecr_image_onto_the_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert llm_twin(["aws", "deploy-stack"]) == 0  # the first deploy: no image yet, so no endpoint
    capsys.readouterr()
    assert llm_twin(["aws", "deploy-service", IMAGE]) == 0
    assert f"parameter ImageUri: '' -> '{IMAGE}'" in capsys.readouterr().out
    [stack] = client("cloudformation").describe_stacks(StackName="llm-twin")["Stacks"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["ImageUri"] == IMAGE
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    # moto 5.2 does not add or remove a resource whose condition changes on an update (ServeEndpoint here), so the
    # endpoint that AWS creates at this point is checked by the deploy test above, which gives the image at creation.
    assert llm_twin(["aws", "delete-service"]) == 0
    assert f"parameter ImageUri: '{IMAGE}' -> ''" in capsys.readouterr().out
    assert llm_twin(["aws", "deploy-service", " "]) == 2
    assert "give the image to deploy" in capsys.readouterr().err
