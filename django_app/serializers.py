"""The predict request's envelope; the model runtime validates each instance."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.settings import api_settings

from contract import BODY_NOT_OBJECT, FIELD_NOT_ALLOWED, FIELD_REQUIRED, INSTANCES_NOT_LIST


class PredictRequestSerializer(serializers.Serializer):
    """``{"instances": [...]}`` and nothing else.

    The instances are passed through unvalidated: the model runtime checks every feature, and
    checking 30 fields per instance a second time here was the largest cost of a prototype.
    """

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": BODY_NOT_OBJECT}

    instances = serializers.ListField(
        error_messages={
            "required": FIELD_REQUIRED,
            "null": INSTANCES_NOT_LIST,
            "not_a_list": INSTANCES_NOT_LIST,
        }
    )

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        """Refuse a JSON ``null`` body like any other body that is not an object."""
        # DRF would answer "No data provided", a message the contract does not have.
        if data is None:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [self.error_messages["invalid"]]}
            )
        return super().validate_empty_values(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Refuse keys the contract does not define."""
        unknown = [key for key in self.initial_data if key not in self.fields]
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(unknown, FIELD_NOT_ALLOWED))
        return attrs
