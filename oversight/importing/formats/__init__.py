"""One module per agent host's transcript format; `FORMATS` lists them in sniffing order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from oversight.importing.model import ImportedSession, ImportProblem

Reader = Callable[[Path], Iterator[ImportedSession | ImportProblem]]


@dataclass(frozen=True)
class Format:
    """A transcript format: `sniff` says from a file's name and first bytes whether it is one
    (cheap, no full parse); `read` yields its sessions and the problems it met."""

    name: str
    description: str
    sniff: Callable[[Path, bytes], bool]
    read: Reader
    claims_dir: Callable[[Path], bool] | None = None
    """For a format whose one session is a folder of files (an OpenHands event stream): says
    whether a folder is one; `read` is then given the folder."""
