"""Commands that run other commands later or elsewhere are what they will run."""

from __future__ import annotations

import pytest

from oversight.classify import Classifier
from oversight.kinds import Kind

C = Classifier()


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ('echo "python train.py --epochs 90" | at now', Kind.TRAIN_LAUNCH),
        ('at now + 2 hours <<< "python finetune.py"', Kind.TRAIN_LAUNCH),
        ("at midnight <<'EOF'\ncd /w && python train.py\nEOF", Kind.TRAIN_LAUNCH),
        ('echo "git push origin main" | batch', Kind.CODE_APPLY),
        ('printf "0 2 * * * cd /w && python train.py\\n" | crontab -', Kind.TRAIN_LAUNCH),
        ("crontab - <<'EOF'\n# nightly\n@daily python train.py\nEOF", Kind.TRAIN_LAUNCH),
        ("systemd-run --user --on-calendar=daily python train.py", Kind.TRAIN_LAUNCH),
        (
            "systemd-run --unit=job -p MemoryMax=2G torchrun --nproc_per_node 8 x.py",
            Kind.TRAIN_LAUNCH,
        ),
        ("runai submit sweep -g 8 -- python train.py", Kind.TRAIN_LAUNCH),
        ("runai submit sweep -i repo/img:1 -g 4", Kind.TRAIN_LAUNCH),
    ],
)
def test_what_is_scheduled_decides_the_kind(command: str, kind: Kind) -> None:
    found = C.classify("Bash", {"command": command})
    assert found.kind is kind, found


@pytest.mark.parametrize(
    "command",
    ["crontab -l", "atq", "at -l", "runai list jobs", "runai describe job sweep", "at -r 3"],
)
def test_listing_and_removing_jobs_launch_nothing(command: str) -> None:
    found = C.classify("Bash", {"command": command})
    assert found.kind not in (Kind.TRAIN_LAUNCH, Kind.CODE_APPLY, Kind.DEPLOY), found


def test_a_scheduled_step_says_so() -> None:
    found = C.classify("Bash", {"command": 'at now <<< "python eval.py"'})
    assert "scheduled" in found.flags
