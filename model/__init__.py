"""The shared model: training, the verified artifact, and a runtime that knows no web framework."""

from model.runtime import (
    ARTIFACTS_DIR,
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_VARIANT,
    VARIANTS,
    InvalidInput,
    Model,
    ModelLoadError,
    artifact_dir,
    load,
)

__all__ = [
    "ARTIFACTS_DIR",
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_VARIANT",
    "VARIANTS",
    "InvalidInput",
    "Model",
    "ModelLoadError",
    "artifact_dir",
    "load",
]
