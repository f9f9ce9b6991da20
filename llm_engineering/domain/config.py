"""The base of every pipeline's run configuration: one frozen, strict pydantic model per pipeline.

A pipeline's YAML `parameters:` section is validated into its model by `llm-twin run` before ZenML
starts, so a typo fails in a second with the key named, and the model is the single home of every
default. Steps receive the model (or one of its sections) as a ZenML parameter.
"""

from pydantic import BaseModel, ConfigDict


class RunConfig(BaseModel):
    """Frozen, rejects unknown keys; every field has a default that works on the embedded default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
