"""Print the model card of each trained variant: ``python -m model.card``."""

from __future__ import annotations

import json

from model.runtime import VARIANTS, artifact_dir, load


def main() -> None:
    """Load every variant (verifying it) and print its public card as JSON."""
    for variant in VARIANTS:
        print(json.dumps(load(artifact_dir(variant)).card, indent=2))


if __name__ == "__main__":
    main()
