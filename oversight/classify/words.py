"""Names split into words, and the words that say what a script, module or tool is for.

Tool, script and module names are matched by word, not by substring, so `retrieval.py` is not an
evaluation and `get_training_status` is not a launch.
"""

from __future__ import annotations

import functools
import itertools
import re

from oversight.classify.argv import word_set
from oversight.kinds import Kind

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

TRAIN_WORDS = word_set(
    """
    train training trainer finetune finetuning pretrain pretraining sft rlhf dpo ppo grpo orpo kto
    """
)
EVAL_WORDS = word_set(
    """
    eval evals evaluate evaluation evaluations evaluator benchmark benchmarks bench
    """
)
DEPLOY_WORDS = frozenset({"deploy", "deployment", "publish"})
EXPERIMENT_WORDS = word_set(
    """
    experiment experiments exp sweep ablation ablations hpo hparam hparams hyperparameter
    hyperparameters
    """
)


@functools.lru_cache(maxsize=4096)
def split_words(name: str) -> tuple[str, ...]:
    """`launchTraining`, `launch_training`, `launch-training.py` → ("launch", "training", ...)."""
    return tuple(w.lower() for w in _WORD.findall(name))


def purpose(words: tuple[str, ...]) -> tuple[Kind, str] | None:
    """The most consequential purpose a name's words state, with the word that says it."""
    for kind, vocabulary in (
        (Kind.DEPLOY, DEPLOY_WORDS),
        (Kind.TRAIN_LAUNCH, TRAIN_WORDS),
        (Kind.EVAL_RUN, EVAL_WORDS),
    ):
        for word in words:
            if word in vocabulary:
                return kind, word
        if kind is Kind.TRAIN_LAUNCH:
            for first, second in itertools.pairwise(words):
                if first == "fine" and second in ("tune", "tuning"):
                    return kind, "fine-tune"
    return None
