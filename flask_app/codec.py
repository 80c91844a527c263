"""How the Flask app reads and writes JSON: exactly as the contract (and the Django app) does."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import UnsupportedMediaType

import contract
from flask_app.errors import MalformedJSON


class ContractJSONProvider(DefaultJSONProvider):
    """Decode strictly and encode compactly, in insertion order; Flask adds the final newline."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj`` as the contract does."""
        return contract.dumps(obj)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse strict JSON (no NaN or Infinity)."""
        return contract.loads(s)


class ContractRequest(Request):
    """A request whose JSON failures map to the contract's two error codes."""

    @property
    def is_json(self) -> bool:
        """Read application/json only, as DRF's parser does (Werkzeug also reads any +json)."""
        return self.mimetype == "application/json"

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        """Raise 415 for a body that is not JSON, 400 for JSON that does not parse."""
        if e is None:
            raise UnsupportedMediaType()
        raise MalformedJSON() from e
