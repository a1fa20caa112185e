"""Step classification: what kind of step a tool call is, why, and what it touches.

    from oversight.classify import Classifier
    Classifier().classify("Bash", {"command": "torchrun --nproc_per_node 8 train.py"})
    # Classification(kind=Kind.TRAIN_LAUNCH, reason="shell: `torchrun` launches ...", ...)

See docs/classification.md for the kinds, their precedence, the flags and the YAML config.
"""

from oversight.classify.classifier import Classifier
from oversight.classify.config import ClassifierConfig, load_classifier_config
from oversight.classify.result import FLAGS, Classification

__all__ = [
    "FLAGS",
    "Classification",
    "Classifier",
    "ClassifierConfig",
    "load_classifier_config",
]
