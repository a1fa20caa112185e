"""The classifier: one entry point that turns (tool name, arguments, declared kind) into a kind."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from oversight.classify.caching import text_cache
from oversight.classify.commands import CommandRules
from oversight.classify.config import ClassifierConfig
from oversight.classify.destructive import with_data_loss
from oversight.classify.eval_code import judge_content
from oversight.classify.paths import (
    DEFAULT_PROTECTED,
    DEFAULT_TAMPER,
    DEFAULT_TAMPER_ENV_PREFIXES,
    PathRules,
    own_source_globs,
)
from oversight.classify.python_code import PythonRules
from oversight.classify.result import Classification, merge_targets
from oversight.classify.scripts import ScriptReader
from oversight.classify.session_files import Written
from oversight.classify.session_state import in_session
from oversight.classify.tools import ToolRules, rule_for
from oversight.classify.workspace import SessionView
from oversight.kinds import Kind, parse_kind


class Classifier:
    """Classifies each step an agent takes, deterministically, and says why.

    A declared kind (from `@monitor.step(kind=...)` or a configured tool pattern) is kept, but
    flags and targets still come from the arguments, and tampering with oversight always wins.
    Name decisions, shell commands and Python code are cached, so repeated calls are cheap.
    """

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        self.config = config or ClassifierConfig()
        self.paths = PathRules(
            (*DEFAULT_PROTECTED, *self.config.protected_paths),
            (*DEFAULT_TAMPER, *own_source_globs(), *self.config.tamper_paths),
        )
        prefixes = (*DEFAULT_TAMPER_ENV_PREFIXES, *self.config.tamper_env_prefixes)
        self._env_prefixes = prefixes
        self._commands = CommandRules(self.config, self.paths, prefixes, self._python_code)
        python = PythonRules(
            self.paths, prefixes, self._commands.exec_script, self._commands.exec_argv
        )
        self._python = text_cache(1024)(python.analyse)
        self._tools = ToolRules(
            self.paths,
            prefixes,
            self._commands.analyse_script,
            self._commands.analyse_argv,
            self._python_code,
        )
        self._scripts = ScriptReader(
            self._commands.analyse_script, python.analyse, self._session_writes
        )
        configured = dict(self.config.tools)
        self._rule_for = functools.lru_cache(maxsize=4096)(lambda name: rule_for(name, configured))

    def classify(
        self,
        name: str,
        args: Mapping[str, Any],
        kind: Kind | str | None = None,
        view: SessionView | None = None,
    ) -> Classification:
        """With `view`, the session's state adds meaning: the file an editor has open, and the
        content of the scripts a command runs (content only ever raises a kind)."""
        result = self._classify(name, args, kind, view)
        if not all(result.targets):
            return Classification(
                result.kind, result.reason, result.flags, merge_targets([result.targets])
            )
        return result

    def _classify(
        self,
        name: str,
        args: Mapping[str, Any],
        kind: Kind | str | None,
        view: SessionView | None,
    ) -> Classification:
        declared = parse_kind(kind) if kind is not None else None
        if declared is Kind.MODEL_CALL:
            # A model call acts on nothing: its arguments are a conversation, not a command, and
            # reading every message of a growing history on every call would cost O(history).
            return _MODEL_CALL
        rule = self._rule_for(name)
        found = self._tools.apply(rule, name, args)
        if view is not None:
            found = in_session(found, rule.shape, args, view, self.paths, self._scripts)
        if found.kind is Kind.OVERSIGHT_TAMPER:
            if declared is not None and declared is not Kind.OVERSIGHT_TAMPER:
                return found.with_reason(
                    f"tampering overrides declared kind {declared.value}: {found.reason}"
                )
            return found
        if declared is not None:
            return _declared(declared, found)
        if rule.configured and (found.kind is not rule.kind or found.reason != rule.reason):
            return Classification(
                rule.kind,
                f"{rule.reason} (kept); arguments: {found.reason}",
                found.flags,
                found.targets,
            )
        return found

    def classify_shell(self, command: str) -> Classification:
        """Classify shell text directly, as a shell tool would run it."""
        return self._commands.analyse_script(command)

    def _session_writes(self, written: Written) -> Classification | None:
        """Files a patch, archive or synced folder the session wrote puts in place, judged as
        a write of them with the text it adds."""
        found = self.paths.writes(written.paths, written.verb)
        if found is None:
            return None
        judged = judge_content(found, written.paths, written.text, self._tampers_env)
        return with_data_loss(judged, written.deleted) if written.deleted else judged

    def _tampers_env(self, name: str) -> bool:
        return name.startswith(self._env_prefixes)

    def _python_code(self, code: str) -> Classification:
        return self._python(code)


_MODEL_CALL = Classification(
    Kind.MODEL_CALL, "declared model.call (acts on nothing)", frozenset(), ()
)


@functools.lru_cache(maxsize=4096)
def _declared(declared: Kind, found: Classification) -> Classification:
    return Classification(
        declared,
        f"declared {declared.value} (kept); arguments: {found.reason}",
        found.flags,
        found.targets,
    )
