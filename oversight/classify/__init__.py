"""Step classification: what kind of step a tool call is, why, and what it touches.

    from oversight.classify import Classifier
    Classifier().classify("Bash", {"command": "torchrun --nproc_per_node 8 train.py"})
    # Classification(kind=Kind.TRAIN_LAUNCH, reason="shell: `torchrun` launches ...", ...)

See docs/classification.md for the kinds, their precedence, the flags and the YAML config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oversight._lazy import lazy_attributes
from oversight.classify.result import FLAGS, Classification

if TYPE_CHECKING:
    from oversight.classify.classifier import Classifier
    from oversight.classify.config import ClassifierConfig, load_classifier_config

# Loaded when first asked for: importing a light module of this package (`result`, `paths`),
# as the policy model and through it the store and every CLI command do, must not load every
# rule, the shell and PowerShell parsers and tree-sitter (about a fifth of a second).
__getattr__ = lazy_attributes(
    __name__,
    {
        "Classifier": "oversight.classify.classifier",
        "ClassifierConfig": "oversight.classify.config",
        "load_classifier_config": "oversight.classify.config",
    },
)


__all__ = [
    "FLAGS",
    "Classification",
    "Classifier",
    "ClassifierConfig",
    "load_classifier_config",
]
