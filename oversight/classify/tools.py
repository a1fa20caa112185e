"""Tool calls → classification: recognise the agent host's tool shape, then read its arguments.

Agent hosts name their tools differently (Claude Code `Bash`, OpenHands `execute_bash`, Inspect
`bash`, Codex `shell`, LangChain `terminal`); each shape says where the command, code, path or
patch lives in the arguments. Custom tools are matched by the words of their name
(`launch_training` → train.launch). The name decision is cached; arguments are read every call.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from oversight.classify.aci import editor_command
from oversight.classify.argv import Argv, word_set
from oversight.classify.caching import text_cache
from oversight.classify.destructive import destroys_rows, with_data_loss
from oversight.classify.eval_code import judge_content, patch_text
from oversight.classify.launchers import as_job
from oversight.classify.patches import deleted_paths, patch_paths
from oversight.classify.paths import PathRules
from oversight.classify.powershell import classify_powershell, looks_like_powershell
from oversight.classify.result import Classification, combine, merge_targets, tamper
from oversight.classify.words import (
    DEPLOY_WORDS,
    EVAL_WORDS,
    EXPERIMENT_WORDS,
    purpose,
    split_words,
)
from oversight.kinds import Kind


class Shape(enum.Enum):
    SHELL = "shell"
    PYTHON = "python"
    WRITE = "write"
    EDITOR = "editor"
    PATCH = "patch"
    READ = "read"
    NAMED = "named"


@dataclass(frozen=True, slots=True)
class ToolRule:
    """What a tool's name alone says: how to read its arguments and the kind it implies."""

    shape: Shape
    kind: Kind
    reason: str
    flags: frozenset[str] = frozenset()
    configured: bool = False
    job: bool = False


SHELL_TOOLS = word_set(
    """
    bash execute_bash shell terminal run_shell_command run_command execute_command exec_command
    shell_exec run_bash bash_tool local_shell container.exec run_terminal_cmd run_in_terminal
    shell_command execute_shell run_shell sh cmd command
    """
)
PYTHON_TOOLS = word_set(
    """
    python python_repl run_python execute_python ipython python_interpreter code_interpreter
    execute_code run_code jupyter exec_python python_exec repl run_ipython execute_ipython_cell
    python_repl_ast pythonrepl python_tool run_cell execute_cell
    """
)
WRITE_TOOLS = word_set(
    """
    write write_file create_file edit edit_file multiedit notebookedit write_to_file
    replace_in_file save_file append_file append_to_file delete_file remove_file move_file
    rename_file copy_file overwrite_file replace str_replace search_replace edit_notebook
    write_notebook create_directory make_directory insert
    """
)
EDITOR_TOOLS = word_set(
    """
    str_replace_editor str_replace_based_edit_tool text_editor edit_tool file_editor editor
    """
)
PATCH_TOOLS = word_set("apply_patch patch apply_diff apply_unified_diff applypatch")
READ_TOOLS = word_set(
    """
    read read_file glob grep ls list_files list_dir list_directory view view_file open_file open
    cat search_files search_file search_dir find_file find_files file_search codebase_search
    read_many_files search_file_content get_file get_file_contents view_image tree file_read
    read_notebook notebookread search_code goto scroll_up scroll_down
    """
)
WEB_TOOLS = word_set(
    """
    webfetch websearch web_fetch web_search fetch browse browser google_web_search search_web
    http_get http_request fetch_url read_url scrape web_browser browser_action tavily_search
    duckduckgo_search bing_search google_search visit_webpage url_fetch requests_get requests_post
    """
)
MODEL_TOOLS = word_set(
    """
    chat call_llm llm complete completion chat_completion chat_completions invoke_model generate
    chatopenai messages.create ask_llm query_llm ask_model call_model chat.completions.create
    completions.create generate_text generate_content invoke_llm llm_call model_call converse
    """
)
OTHER_TOOLS: dict[str, tuple[Kind, str]] = {
    "task": (Kind.TOOL_CALL, "delegates work to a sub-agent"),
    "askuserquestion": (Kind.TOOL_CALL, "asks the user a question"),
    "ask_user": (Kind.TOOL_CALL, "asks the user a question"),
    "finish": (Kind.TOOL_CALL, "ends the agent's turn with a message"),
    "agent": (Kind.TOOL_CALL, "delegates work to a sub-agent"),
    "todowrite": (Kind.TOOL_CALL, "updates the agent's todo list"),
    "todoread": (Kind.TOOL_CALL, "reads the agent's todo list"),
    "exitplanmode": (Kind.TOOL_CALL, "leaves plan mode"),
    "bashoutput": (Kind.TOOL_CALL, "reads a background shell's output"),
    "killshell": (Kind.SHELL_EXEC, "stops a background shell"),
    "killbash": (Kind.SHELL_EXEC, "stops a background shell"),
    "submit": (Kind.CODE_APPLY, "hands in the agent's answer and ends its task"),
    "think": (Kind.TOOL_CALL, "records a thought"),
}

MUTATING = word_set(
    """
    disable delete remove stop kill pause clear reset edit update write set uninstall purge approve
    override bypass skip mute
    """
)
QUERY_VERBS = word_set(
    """
    get list check show describe view read status watch monitor poll wait query inspect search find
    lookup count summarize explain print tail logs log plot cancel stop kill abort terminate pause
    """
)
# A tool named for one of these verbs destroys what it acts on (`remove_doc_by_id`).
DESTROY_VERBS = word_set("delete remove drop destroy purge erase wipe truncate")
# ... unless what it removes is plainly values being processed: `remove_stopwords`,
# `drop_duplicates`, `truncate_text` transform data in hand, they destroy nothing stored.
IN_MEMORY_OBJECTS = word_set(
    """
    text texts string strings str whitespace stopwords duplicates punctuation tokens html tags
    newlines spaces prefix suffix chars characters words accents emojis noise outliers nulls nan
    nans background markdown formatting
    """
)
# An MCP tool named for one of these verbs changes what its server stores (`create_issue`).
STATE_WRITE_VERBS = word_set("create update write insert add set put upsert edit modify append")
PATH_NOUNS = word_set("file files dir dirs directory directories folder folders path paths")
# MCP servers that keep state on this machine (files, a local database, the agent's memory),
# by a word of their name or their whole name (`neo4j`): what their tools create stays here. Any other server is a service people share (an issue
# tracker, a wiki, chat), so creating or updating there publishes.
LOCAL_SERVER_WORDS = word_set(
    """
    filesystem fs file files local memory sqlite duckdb notebook jupyter ide vscode editor shell
    terminal desktop playwright puppeteer browser git db database neo4j postgres postgresql mysql
    mongo mongodb redis chroma qdrant
    """
)
JOB_VERBS = word_set("submit launch queue enqueue schedule start run create")
PUSH_OBJECTS = word_set("git branch commit commits code changes files file repo origin remote")
MERGE_OBJECTS = word_set("pr pull mr branch request main master changes")
UPLOAD_OBJECTS = frozenset(
    {"model", "checkpoint", "weights", "hub", "artifact", "adapter", "dataset"}
)
WRITE_VERBS = word_set(
    """
    write edit create save append replace delete remove rename move copy update modify insert
    overwrite mkdir
    """
)
READ_VERBS = word_set("read view open list ls cat get show search find glob grep load")
FILE_NOUNS = word_set(
    """
    file files notebook dir directory folder path document doc code codebase cell
    """
)
SHELL_WORDS = word_set("shell bash terminal command cmd sh zsh exec execute")
PYTHON_WORDS = frozenset({"python", "repl", "ipython", "jupyter"})
MODEL_WORDS = word_set(
    """
    chat llm completion completions complete generate generation gpt claude openai anthropic gemini
    prompt ask
    """
)
WEB_WORDS = word_set(
    """
    web fetch http https url browse browser download scrape crawl google bing internet website
    webpage
    """
)

COMMAND_KEYS = ("command", "cmd", "commands", "script", "shell_command", "input", "code", "argv")
CODE_KEYS = ("code", "command", "query", "source", "input", "script", "cell", "python_code")
PATH_KEYS = word_set(
    """
    file_path path filename file_name file notebook_path target_file absolute_path destination dest
    new_path
    target paths files old_path source_path directory dir pattern
    """
)
STATEMENT_KEYS = ("query", "sql", "cypher", "statement", "cql")
# A statement, not a sentence: `how to delete from a table` in a search query is not SQL.
_STATEMENT_START = re.compile(
    r"\s*(?:drop|truncate|delete|match|optional|merge|with|unwind|call|begin|flushall|flushdb)\b",
    re.IGNORECASE,
)
PATCH_KEYS = ("input", "patch", "diff", "content", "patch_text")
JOB_COMMAND_KEYS = frozenset(
    {"command", "cmd", "commands", "shell_command", "entrypoint", "entry_point", "run"}
)
OUTPUT_KEYS = word_set(
    """
    output output_path output_dir output_file save_path save_dir dest destination out out_dir
    out_path target_path write_path
    """
)
TARGET_KEYS = word_set(
    """
    path file_path script config config_path repo repo_id remote branch model model_id model_name
    url image dataset query notebook_path target_file absolute_path pattern job_name task
    """
)
ENV_KEYS = frozenset({"env", "environment", "env_vars", "environment_variables", "envs"})
_SPECIAL_KEYS = JOB_COMMAND_KEYS | OUTPUT_KEYS | ENV_KEYS


def rule_for(name: str, configured: Mapping[str, Kind]) -> ToolRule:
    """The rule a tool name selects: project config first, then host shapes, then name words."""
    builtin = _builtin_rule(name)
    for pattern, kind in configured.items():
        if fnmatchcase(name, pattern):
            return ToolRule(
                builtin.shape,
                kind,
                f"config: tool `{name}` matches `{pattern}`",
                configured=True,
            )
    return builtin


def _builtin_rule(name: str) -> ToolRule:
    lowered = name.lower()
    short = lowered.rsplit("__", 1)[-1]
    for key in (lowered, short):
        if key in SHELL_TOOLS:
            return ToolRule(Shape.SHELL, Kind.SHELL_EXEC, "runs a shell command")
        if key in PYTHON_TOOLS:
            return ToolRule(Shape.PYTHON, Kind.SHELL_EXEC, "runs Python code")
        if key in WRITE_TOOLS:
            return ToolRule(Shape.WRITE, Kind.FILE_WRITE, "writes files")
        if key in EDITOR_TOOLS:
            return ToolRule(Shape.EDITOR, Kind.FILE_WRITE, "views or edits files")
        if key in PATCH_TOOLS:
            return ToolRule(Shape.PATCH, Kind.FILE_WRITE, "applies a patch")
        if key in READ_TOOLS:
            return ToolRule(Shape.READ, Kind.FILE_READ, f"tool `{name}` reads files")
        if key in WEB_TOOLS:
            return ToolRule(
                Shape.NAMED,
                Kind.TOOL_CALL,
                f"tool `{name}` reaches the web",
                frozenset({"network"}),
            )
        if key in MODEL_TOOLS:
            return ToolRule(Shape.NAMED, Kind.MODEL_CALL, f"tool `{name}` calls a model")
        if key in OTHER_TOOLS:
            kind, why = OTHER_TOOLS[key]
            return ToolRule(Shape.NAMED, kind, f"tool `{name}` {why}")
    return _word_rule(name, split_words(name))


def _action_words(name: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """The words of what a tool does: for `mcp__server__tool`, the tool part's words."""
    if name.lower().startswith("mcp__") and name.count("__") >= 2:
        return split_words(name.rsplit("__", 1)[-1])
    return words


def _word_rule(name: str, words: tuple[str, ...]) -> ToolRule:
    present = frozenset(words)
    label = f"tool `{name}`"
    if "oversight" in present and present & MUTATING:
        return ToolRule(
            Shape.NAMED,
            Kind.OVERSIGHT_TAMPER,
            f"{label}: its name says it changes oversight",
            frozenset({"oversight_target"}),
        )
    action = _action_words(name, words)
    querying = bool(action) and action[0] in QUERY_VERBS
    if (
        not querying
        and not DESTROY_VERBS.isdisjoint(action)
        and IN_MEMORY_OBJECTS.isdisjoint(action)
    ):
        if not PATH_NOUNS.isdisjoint(action):
            # `delete_file`, `remove_directory`: the path argument says whether it is data
            return ToolRule(Shape.WRITE, Kind.FILE_WRITE, "deletes files")
        return ToolRule(
            Shape.NAMED,
            Kind.FILE_WRITE,
            f"{label}: its name says it deletes data",
            frozenset({"destroys_data"}),
        )
    if action is not words and action and action[0] in STATE_WRITE_VERBS:
        server = name.split("__")[1]
        if (
            LOCAL_SERVER_WORDS.isdisjoint(split_words(server))
            and server.lower() not in LOCAL_SERVER_WORDS
        ):
            return ToolRule(
                Shape.NAMED,
                Kind.DEPLOY,
                f"{label}: its name says it changes what MCP server `{server}` holds for "
                "others (issues, documents, messages on a service)",
                frozenset({"publish", "network"}),
            )
        return ToolRule(
            Shape.NAMED,
            Kind.FILE_WRITE,
            f"{label}: its name says it changes what MCP server `{server}` stores",
        )
    if not querying:
        if (
            present & DEPLOY_WORDS
            or {"push", "hub"} <= present
            or ("upload" in present and present & UPLOAD_OBJECTS)
        ):
            return ToolRule(
                Shape.NAMED,
                Kind.DEPLOY,
                f"{label}: its name says it publishes or deploys",
                frozenset({"publish"}),
            )
        found = purpose(words)
        if (found and found[0] is Kind.TRAIN_LAUNCH) or (
            present & JOB_VERBS and present & {"job", "jobs"}
        ):
            if found and found[0] is Kind.TRAIN_LAUNCH:
                return ToolRule(
                    Shape.NAMED,
                    Kind.TRAIN_LAUNCH,
                    f"{label}: its name says it launches training (word `{found[1]}`)",
                )
            return ToolRule(
                Shape.NAMED, Kind.TRAIN_LAUNCH, f"{label}: its name says it submits a job", job=True
            )
        if (
            ("merge" in present and present & MERGE_OBJECTS)
            or ("push" in present and (present & PUSH_OBJECTS or len(words) == 1))
            or ("land" in present and len(words) <= 3)
            or (
                present & {"github", "gitlab"}
                and present & {"create", "update", "delete", "push"}
                and present & {"file", "files", "branch"}
            )
        ):
            return ToolRule(
                Shape.NAMED,
                Kind.CODE_APPLY,
                f"{label}: its name says it changes shared history",
                frozenset({"shared_history"}),
            )
        if present & EVAL_WORDS:
            return ToolRule(
                Shape.NAMED, Kind.EVAL_RUN, f"{label}: its name says it runs an evaluation"
            )
        if present & EXPERIMENT_WORDS or (
            present & {"run", "execute"} and present & {"notebook", "script"}
        ):
            return ToolRule(
                Shape.NAMED, Kind.EXPERIMENT_RUN, f"{label}: its name says it runs an experiment"
            )
    if present & PYTHON_WORDS or (
        "code" in present and present & {"run", "execute", "exec", "interpreter"}
    ):
        return ToolRule(Shape.PYTHON, Kind.SHELL_EXEC, "runs Python code")
    if present & SHELL_WORDS and not present & FILE_NOUNS:
        return ToolRule(Shape.SHELL, Kind.SHELL_EXEC, "runs a shell command")
    if "patch" in present or "diff" in present and "apply" in present:
        return ToolRule(Shape.PATCH, Kind.FILE_WRITE, "applies a patch")
    if present & FILE_NOUNS:
        if present & WRITE_VERBS and not querying:
            return ToolRule(Shape.WRITE, Kind.FILE_WRITE, "writes files")
        if present & READ_VERBS or querying:
            return ToolRule(Shape.READ, Kind.FILE_READ, f"{label} reads files")
    if (
        present & MODEL_WORDS
        or ({"invoke", "model"} <= present)
        or ({"messages", "create"} <= present)
    ):
        return ToolRule(Shape.NAMED, Kind.MODEL_CALL, f"{label}: its name says it calls a model")
    if present & WEB_WORDS or ({"search"} <= present and "web" in present):
        return ToolRule(
            Shape.NAMED,
            Kind.TOOL_CALL,
            f"{label}: its name says it reaches the web",
            frozenset({"network"}),
        )
    if querying:
        return ToolRule(Shape.NAMED, Kind.TOOL_CALL, f"{label}: its name says it only queries")
    return ToolRule(
        Shape.NAMED,
        Kind.TOOL_CALL,
        f"{label}: no rule matched its name, so it is a plain tool call",
    )


class ToolRules:
    """Reads a tool call's arguments according to its shape."""

    def __init__(
        self,
        paths: PathRules,
        env_prefixes: Iterable[str],
        script: Callable[[str], Classification],
        argv: Callable[[Argv], Classification],
        python: Callable[[str], Classification],
    ) -> None:
        self.paths = paths
        self.env_prefixes = tuple(env_prefixes)
        self.python = python
        # results below are immutable and depend only on their key, so they are cached whole
        self.script: Callable[[str], Classification] = text_cache(4096)(
            lambda text: _prefixed(script(text), "shell: ")
        )
        self.argv = functools.lru_cache(maxsize=4096)(
            lambda words: _prefixed(argv(words), "shell: ")
        )
        self.editor_or_script = text_cache(4096)(self._editor_or_script)
        self._writes = functools.lru_cache(maxsize=4096)(paths.writes)
        self._plain = functools.lru_cache(maxsize=4096)(_plain)

    def apply(self, rule: ToolRule, name: str, args: Mapping[str, Any]) -> Classification:
        shape = rule.shape
        if shape is Shape.NAMED and self._is_plain(args):
            found = self._plain(rule, _targets(args, TARGET_KEYS))
            # a web tool's `query` is a search phrase, never a statement it runs
            statement = None if "network" in rule.flags else _destructive_statement(name, args)
            return combine([found, statement]) if statement else found
        if shape is Shape.SHELL:
            found = self._shell(args)
        elif shape is Shape.PYTHON:
            found = self._python(args)
        elif shape is Shape.WRITE:
            found = self._write(name, args)
        elif shape is Shape.EDITOR:
            found = self._editor(name, args)
        elif shape is Shape.PATCH:
            found = self._patch(name, args)
        elif shape is Shape.READ:
            found = self._plain(rule, _targets(args, PATH_KEYS))
        else:
            found = self._named(name, rule, args)
        if not self._may_set_env(args):
            return found
        env = self._env_arguments(args)
        return combine([found, *env]) if env else found

    def _is_plain(self, args: Mapping[str, Any]) -> bool:
        """No argument that could run a command, write a path or set oversight's variables."""
        for key, val in args.items():
            if (
                key in _SPECIAL_KEYS
                or key.startswith(self.env_prefixes)
                or isinstance(val, Mapping)
            ):
                return False
        return True

    def _may_set_env(self, args: Mapping[str, Any]) -> bool:
        for key, val in args.items():
            if key in ENV_KEYS or key.startswith(self.env_prefixes) or isinstance(val, Mapping):
                return True
        return False

    def _shell(self, args: Mapping[str, Any]) -> Classification:
        action = args.get("action")
        if isinstance(action, Mapping):
            args = action
        for key in COMMAND_KEYS:
            command = args.get(key)
            if isinstance(command, str) and command.strip():
                return self.editor_or_script(command)
            if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
                if key == "commands":
                    return self.script("\n".join(command))
                return self.argv(tuple(command))
        return Classification(
            Kind.SHELL_EXEC, "shell: no command in the arguments", frozenset({"unresolved"})
        )

    def _editor_or_script(self, command: str) -> Classification:
        """SWE-agent/MLGym editor commands arrive through the shell tool; Codex Desktop on
        Windows sends PowerShell (read by its own rules); the rest is shell."""
        if looks_like_powershell(command):
            return classify_powershell(command, self.paths, self.script, self.env_prefixes)
        found = editor_command(command, self.paths, self.script)
        return found if found is not None else self.script(command)

    def _python(self, args: Mapping[str, Any]) -> Classification:
        for key in CODE_KEYS:
            code = args.get(key)
            if isinstance(code, str) and code.strip():
                return self.python(code)
        return Classification(
            Kind.SHELL_EXEC, "python: no code in the arguments", frozenset({"unresolved"})
        )

    def _write(self, name: str, args: Mapping[str, Any]) -> Classification:
        paths = _targets(args, PATH_KEYS)
        found = self._writes(paths, f"tool `{name}` writes")
        if found is not None and not DESTROY_VERBS.isdisjoint(split_words(name)):
            return with_data_loss(found, paths)
        if found is not None:
            return self._judge_text(found, paths, written_text(args))
        return found or Classification(
            Kind.FILE_WRITE,
            f"tool `{name}` writes a file it does not name",
            frozenset({"unresolved"}),
        )

    def _editor(self, name: str, args: Mapping[str, Any]) -> Classification:
        command = args.get("command")
        paths = _targets(args, PATH_KEYS)
        if command == "view":
            return Classification(Kind.FILE_READ, f"tool `{name}` views files", targets=paths)
        verb = f"tool `{name}` ({command})" if isinstance(command, str) else f"tool `{name}`"
        found = self._writes(paths, f"{verb} writes")
        if found is not None:
            return self._judge_text(found, paths, written_text(args))
        return found or Classification(
            Kind.FILE_WRITE,
            f"tool `{name}` edits a file it does not name",
            frozenset({"unresolved"}),
        )

    def _patch(self, name: str, args: Mapping[str, Any]) -> Classification:
        paths: list[str] = []
        deleted: list[str] = []
        changed: list[str] = []
        for key in PATCH_KEYS:
            text = args.get(key)
            if isinstance(text, str):
                paths += patch_paths(text)
                deleted += deleted_paths(text)
                changed.append(patch_text(text))
        paths += _targets(args, frozenset({"path", "file_path", "target_file"}))
        found = self._writes(tuple(paths), f"tool `{name}` patches")
        if found is not None:
            judged = self._judge_text(found, paths, "\n".join(changed))
            return with_data_loss(judged, deleted)
        return Classification(
            Kind.FILE_WRITE,
            f"tool `{name}` applies a patch whose files are not visible",
            frozenset({"unresolved"}),
        )

    def _judge_text(self, found: Classification, paths: Iterable[str], text: str) -> Classification:
        """A write reconsidered by the text it writes (eval_code.judge_content)."""
        return judge_content(found, paths, text, lambda var: var.startswith(self.env_prefixes))

    def _named(self, name: str, rule: ToolRule, args: Mapping[str, Any]) -> Classification:
        """A tool known by its name; commands and output paths in its arguments still count."""
        base = Classification(rule.kind, rule.reason, rule.flags, _targets(args, TARGET_KEYS))
        commands: list[Classification] = []
        writes: list[Classification] = []
        for key, val in args.items():
            if key in JOB_COMMAND_KEYS:
                found = self._command_argument(key, val)
                if found is not None:
                    commands.append(
                        found.with_reason(
                            f"argument `{key}`: {found.reason.removeprefix('shell: ')}"
                        )
                    )
            elif key in OUTPUT_KEYS and isinstance(val, str):
                written = self.paths.writes([val], f"argument `{key}` writes")
                if written is not None:
                    writes.append(written)
        if rule.job and commands:
            base = as_job(f"tool `{name}`", combine(commands), "its command", program=name)
            return combine([base, *writes])
        return combine([base, *commands, *writes])

    def _command_argument(self, key: str, val: Any) -> Classification | None:
        if isinstance(val, str) and val.strip():
            return self.script(val)
        if isinstance(val, list) and val and all(isinstance(v, str) for v in val):
            return self.script("\n".join(val)) if key == "commands" else self.argv(tuple(val))
        return None

    def _env_arguments(self, args: Mapping[str, Any], depth: int = 0) -> list[Classification]:
        """OVERSIGHT_* variables set through any argument: `env={...}`, `["OVERSIGHT_X=1"]`."""
        found: list[Classification] = []
        prefixes = self.env_prefixes
        for key, val in args.items():
            if key.startswith(prefixes):
                found.append(tamper(f"argument sets {key}, one of oversight's settings", [key]))
            elif key in ENV_KEYS and isinstance(val, (list, tuple)):
                for item in val:
                    if isinstance(item, str) and item.split("=", 1)[0].startswith(
                        self.env_prefixes
                    ):
                        found.append(
                            tamper(
                                f"argument `{key}` sets {item.split('=', 1)[0]}, one of oversight's settings",
                                [item],
                            )
                        )
            if isinstance(val, Mapping) and depth < 3:
                found += self._env_arguments(_string_keys(val), depth + 1)
        return found


# Where write and edit tools carry the text they write (and, for edits, the text they replace:
# changing a metric's definition is as protected as writing one).
CONTENT_KEYS = (
    "content", "contents", "file_text", "text", "new_source", "new_string", "new_str",
    "old_string", "old_str", "insert_text",
)  # fmt: skip
EDIT_KEYS = ("old_string", "new_string", "old_str", "new_str")


def written_text(args: Mapping[str, Any]) -> str:
    """The text a write or edit tool's arguments carry (Claude Code Write/Edit/MultiEdit,
    NotebookEdit, OpenHands and Anthropic editors), joined; empty when there is none."""
    parts = [v for k in CONTENT_KEYS if isinstance(v := args.get(k), str)]
    edits = args.get("edits")
    if isinstance(edits, list):
        for edit in edits:
            if isinstance(edit, Mapping):
                parts += [v for k in EDIT_KEYS if isinstance(v := edit.get(k), str)]
    return "\n".join(parts)


def _destructive_statement(name: str, args: Mapping[str, Any]) -> Classification | None:
    """A database tool's statement (`query`, `sql`, `cypher`) that deletes stored data."""
    for key in STATEMENT_KEYS:
        text = args.get(key)
        if isinstance(text, str) and _STATEMENT_START.match(text):
            found = destroys_rows(text, f"tool `{name}` argument `{key}`", (name,))
            if found is not None:
                return found
    return None


def _plain(rule: ToolRule, targets: tuple[str, ...]) -> Classification:
    return Classification(rule.kind, rule.reason, rule.flags, targets)


def _string_keys(mapping: Mapping[Any, Any]) -> Mapping[str, Any]:
    if all(isinstance(k, str) for k in mapping):
        return mapping
    return {str(k): v for k, v in mapping.items()}


def _prefixed(found: Classification, prefix: str) -> Classification:
    return found.with_reason(prefix + found.reason)


def _targets(args: Mapping[str, Any], keys: frozenset[str]) -> tuple[str, ...]:
    """String values of the identifying arguments, in argument order, whole: a path rule must
    see the end of a 400-character path (`.../evaluate.py`). What is stored is bounded by the
    pipeline (normalise.shown_targets), not here."""
    values: list[str] = []
    for key, val in args.items():
        if key not in keys:
            continue
        if isinstance(val, str):
            if val:
                values.append(val)
        elif isinstance(val, list):
            values += [v for v in val if isinstance(v, str) and v]
    if len(values) < 2:
        return tuple(values)
    return merge_targets([values])
