"""Errors raised by the project. Each message names the cause and the fix."""

from collections.abc import Sequence


class LLMTwinError(Exception):
    """Base class of every error this project raises on purpose."""


class SettingsError(LLMTwinError):
    """A setting is missing or invalid; the message names the variable."""


class DataWarehouseUnavailableError(LLMTwinError):
    """MongoDB (or the embedded Mongo-wire server) cannot be reached."""


class VectorStoreError(LLMTwinError):
    """Qdrant rejected an operation or cannot be reached."""


class LocalInfrastructureError(LLMTwinError):
    """The embedded local server could not be started or stopped."""


class InvalidDocumentError(LLMTwinError):
    """A document does not match the expected schema."""


class FileStoreError(LLMTwinError):
    """A folder or S3 prefix of files cannot be read or written; the message names the location and the fix."""


class PipelineNotAvailableError(LLMTwinError):
    """The requested pipeline is not part of this build yet."""


class LLMError(LLMTwinError):
    """An LLM backend failed (after its retries) or answered with something unusable."""


class MalformedAnswerError(LLMError, ValueError):
    """An answer held no JSON, or JSON that does not match the schema; the message says what is wrong."""


class CrawlError(LLMTwinError):
    """One link could not be crawled; the message is the reason recorded for that link."""


class BrowserUnavailableError(CrawlError):
    """No headless browser could start here; the message names the packages to install."""


class InvalidLinkError(CrawlError):
    """A link is malformed; it is rejected before any request is made."""


class LinkRefusedError(CrawlError):
    """Crawling the link is not allowed: a private address, robots.txt or an unsupported scheme."""


class CrawlFailuresExceededError(LLMTwinError):
    """More links failed than the run tolerates; the message lists each failed link and its reason."""

    def __init__(self, failures: Sequence[tuple[str, str]], total: int, max_failure_fraction: float) -> None:
        self.failures = list(failures)
        self.total = total
        self.max_failure_fraction = max_failure_fraction
        listing = "\n".join(f"  {link}: {reason}" for link, reason in self.failures)
        super().__init__(
            f"{len(self.failures)} of {total} links failed, more than the {max_failure_fraction:.0%} the run "
            f"tolerates (max_failure_fraction):\n{listing}\n"
            "Fix or remove these links, or raise max_failure_fraction to accept the failures."
        )


class ConfigError(LLMTwinError):
    """A run configuration file is missing or invalid; the message names the file and the key path."""


class AnswerTimeoutError(LLMTwinError):
    """A request to the twin ran past its time limit (API_REQUEST_TIMEOUT_S); its generation is stopped."""


class EndpointDeployError(LLMTwinError):
    """Deploying, testing or deleting the SageMaker endpoint failed; the message says which step and why."""


class StackDeployError(LLMTwinError):
    """The CloudFormation stack was not deployed or deleted; the one-line message says why and what to do."""


class ZenMLStackError(LLMTwinError):
    """The ZenML stack was not registered from the AWS stack; the one-line message says why and what to do."""


class InvalidQueryError(LLMTwinError, ValueError):
    """The question cannot be asked as given (empty, too long); the message tells the asker what to change."""


class DatasetSourceError(LLMTwinError, ValueError):
    """A training dataset cannot be read, is empty, or lacks a column; the message names the source and the fix."""


class ReviewConflictError(LLMTwinError):
    """A review was saved on an older version than the stored one; the message says who saved the newer one."""


class InvalidReviewError(LLMTwinError, ValueError):
    """A verdict cannot be saved as given (an empty edit, a swap of an instruction row); the message says why."""


class ReviewSampleNotFoundError(LLMTwinError, LookupError):
    """No row of the newest datasets has this id (it was regenerated away); the message says to reload the list."""


class LabelStudioExportError(LLMTwinError, ValueError):
    """A file is not Label Studio's JSON export of a review project made from our tasks; nothing of it is imported."""


class TooFewReviewedRowsError(DatasetSourceError):
    """Training with `reviews: require` found too few accepted or edited rows; the message gives the counts."""


class RegistryError(LLMTwinError, LookupError):
    """The model registry has no version matching the request; the message says what to run first."""


class IncompatibleFeatureStoreError(VectorStoreError):
    """The feature store was built with another embedding model or sparse scheme; the message says to rebuild."""
