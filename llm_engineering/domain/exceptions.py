"""Errors raised by the project. Each message names the cause and the fix."""


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


class PipelineNotAvailableError(LLMTwinError):
    """The requested pipeline is not part of this build yet."""


class LLMError(LLMTwinError):
    """An LLM backend failed (after its retries) or answered with something unusable."""
