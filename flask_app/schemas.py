"""The predict request's envelope; the model runtime validates each instance."""

from __future__ import annotations

from typing import Any

from contract import (
    BODY_NOT_OBJECT,
    ENVELOPE_FIELD,
    FIELD_NOT_ALLOWED,
    FIELD_REQUIRED,
    INSTANCES_NOT_LIST,
)
from model import InvalidInput


def predict_instances(payload: Any) -> list[Any]:
    """Return the instances of a predict request, checking the envelope around them."""
    if not isinstance(payload, dict):
        raise InvalidInput([((), BODY_NOT_OBJECT)])
    if ENVELOPE_FIELD not in payload:
        raise InvalidInput([((ENVELOPE_FIELD,), FIELD_REQUIRED)])
    instances = payload[ENVELOPE_FIELD]
    if not isinstance(instances, list):
        raise InvalidInput([((ENVELOPE_FIELD,), INSTANCES_NOT_LIST)])
    unknown = [key for key in payload if key != ENVELOPE_FIELD]
    if unknown:
        raise InvalidInput([((key,), FIELD_NOT_ALLOWED) for key in unknown])
    return instances
