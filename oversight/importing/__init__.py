"""Import the transcripts real agent hosts leave behind (see `oversight import`)."""

from oversight.importing.model import ImportedCall, ImportedSession, ImportProblem

__all__ = ["ImportProblem", "ImportedCall", "ImportedSession"]
