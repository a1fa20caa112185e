"""Python source → classification, by reading its syntax tree (the code is never run).

Python tools run arbitrary code, so their baseline is `shell.exec`. What raises it: commands
started through subprocess/os.system (classified like shell), file writes, training calls
(`trainer.train()`, a backward/step loop), `push_to_hub`, evaluation harnesses. What makes it
tampering: writing oversight's files, its environment variables, its tables, or patching the
`oversight` package. `exec`/`eval` of text that is not a literal is flagged `obfuscated`.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from oversight.classify import network_sends
from oversight.classify.argv import Argv, word_set
from oversight.classify.destructive import DESTROYS_DATA, destroys_rows, with_data_loss
from oversight.classify.guards import changes_oversight_tables
from oversight.classify.paths import PathRules
from oversight.classify.result import Classification, combine, outranks, tamper
from oversight.classify.words import purpose, split_words
from oversight.kinds import Kind

MAX_DEPTH = 8
SUBPROCESS = word_set(
    """
    subprocess.run subprocess.Popen subprocess.call subprocess.check_call subprocess.check_output
    subprocess.getoutput subprocess.getstatusoutput os.system os.popen
    asyncio.create_subprocess_shell asyncio.create_subprocess_exec pexpect.spawn pexpect.run
    commands.getoutput
    """
)
# function → indexes of the path arguments it writes
WRITING_FUNCTIONS: dict[str, tuple[int, ...]] = {
    "shutil.copy": (1,),
    "shutil.copy2": (1,),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (0, 1),
    "shutil.rmtree": (0,),
    "os.remove": (0,),
    "os.unlink": (0,),
    "os.rmdir": (0,),
    "os.removedirs": (0,),
    "os.rename": (0, 1),
    "os.replace": (0, 1),
    "os.renames": (0, 1),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.makedirs": (0,),
    "os.mkdir": (0,),
    "os.symlink": (1,),
    "os.link": (1,),
    "torch.save": (1,),
    "numpy.save": (0,),
    "numpy.savez": (0,),
    "send2trash.send2trash": (0,),
    # OpenHands agent skills, called inside `execute_ipython_cell`
    # (openhands/runtime/plugins/agent_skills/file_ops/file_ops.py)
    "edit_file_by_replace": (0,),
    "insert_content_at_line": (0,),
    "append_file": (0,),
    "create_file": (0,),
}
DELETING_FUNCTIONS = word_set(
    "shutil.rmtree os.remove os.unlink os.rmdir os.removedirs send2trash.send2trash"
)
# methods that run a database statement given as their first argument (DB-API, SQLAlchemy, neo4j)
QUERY_METHODS = word_set(
    """
    execute executescript executemany exec_driver_sql text run query sql execute_query
    execute_write execute_read write_transaction read_transaction raw cypher
    """
)
# database-driver methods whose name says they delete stored data (pymongo, SQLAlchemy, Redis)
DROPPING_METHODS = word_set(
    "drop_database drop_collection delete_many drop_all drop_table flushall flushdb"
)
PATH_METHODS = word_set("write_text write_bytes unlink rmdir touch mkdir symlink_to hardlink_to")
SAVE_METHODS = frozenset(
    {"to_csv", "to_json", "to_parquet", "to_pickle", "save_pretrained", "savefig"}
)
OPENERS = frozenset({"open", "io.open", "codecs.open", "builtins.open"})
UPLOADS = frozenset(
    {"push_to_hub", "upload_file", "upload_folder", "upload_large_folder", "create_commit"}
)
EXECUTORS = frozenset(
    {"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"}
)
HIDDEN_LOADERS = frozenset({"marshal.loads", "types.CodeType", "types.FunctionType"})
NETWORK_ROOTS = word_set(
    """
    requests httpx urllib aiohttp socket http paramiko ftplib smtplib boto3 websocket websockets
    """
)
OVERSIGHT_ROOTS = frozenset({"oversight", "agent_oversight"})
NOT_ACTIONS = word_set(
    """
    get load build make create prepare setup init compute read save log print plot parse split
    sample collate preprocess format tokenize download show list fetch check validate is has set to
    with on update
    """
)
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHELL_ASSIGNMENT = re.compile(r"^(\w+\s*=\s*)!(.*)$")
"""`files = !ls`: IPython's shell escape whose output a name keeps."""


def shell_exec(reason: str, *flags: str, targets: tuple[str, ...] = ()) -> Classification:
    return Classification(Kind.SHELL_EXEC, reason, frozenset(flags), targets)


class PythonRules:
    def __init__(
        self,
        paths: PathRules,
        env_prefixes: Iterable[str],
        script: Callable[[str], Classification],
        argv: Callable[[Argv], Classification],
    ) -> None:
        self.paths = paths
        self.env_prefixes = tuple(env_prefixes)
        self.script = script
        self.argv = argv

    def analyse(self, code: str) -> Classification:
        source, shell_lines, written = _ipython(code)
        parts = [self._shell(line) for line in shell_lines if line.strip()]
        if written:
            found = self.paths.writes(written, "`%%writefile` writes")
            if found is not None:
                parts.append(found)
        try:
            nodes = parsed_nodes(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            if isinstance(exc, SyntaxError):
                where = f" at line {exc.lineno}" if exc.lineno else ""
                problem = f"syntax error{where}, so the code cannot run as written"
            else:
                problem = "code too large or deeply nested to parse"
            parts.append(shell_exec(f"python: {problem}", "unresolved"))
            return combine(parts)
        visitor = _Visitor(self, nodes, 0)
        visitor.run(nodes)
        parts.extend(visitor.finish())
        if not parts:
            return shell_exec(
                "python: runs code with no training, evaluation, deployment, file write or "
                "command in it"
            )
        return combine(parts)

    def _shell(self, line: str) -> Classification:
        found = self.script(line)
        return found.with_reason(f"python shell escape: {found.reason}")

    def tampers_env(self, name: str) -> bool:
        return name.startswith(self.env_prefixes)


def _ipython(code: str) -> tuple[str, list[str], list[str]]:
    """Split IPython syntax (`!cmd`, `%run`, `%%bash`, `%%writefile`) from plain Python."""
    if "!" not in code and "%" not in code:
        return code, [], []
    lines = code.split("\n")
    first = lines[0].strip()
    if first.startswith(("%%bash", "%%sh", "%%script bash", "%%script sh", "%%shell", "%%system")):
        return "", ["\n".join(lines[1:])], []
    if first.startswith("%%writefile"):
        words = first.split()[1:]
        return "", [], [w for w in words if not w.startswith("-")][:1]
    if first.startswith("%%"):
        lines = lines[1:]
    out: list[str] = []
    shell: list[str] = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        assigned = _SHELL_ASSIGNMENT.match(stripped)
        if stripped.startswith("!"):
            shell.append(stripped[1:])
            out.append(indent + "pass")
        elif assigned:
            shell.append(assigned.group(2))
            out.append(indent + assigned.group(1) + "None")
        elif stripped.startswith("%"):
            magic, _, rest = stripped[1:].partition(" ")
            if magic == "run":
                shell.append(f"python {rest}")
            elif magic in ("pip", "conda", "sx", "system", "sh"):
                shell.append(rest if magic in ("sx", "system", "sh") else f"{magic} {rest}")
            elif magic in ("env", "set_env") and rest:
                name, _, value = rest.replace("=", " ", 1).partition(" ")
                shell.append(f"export {name}={value.strip()!r}")
            out.append(indent + "pass")
        else:
            out.append(line)
    return "\n".join(out), shell, []


RULE_NODES: tuple[type[ast.AST], ...] = (
    ast.Import, ast.ImportFrom, ast.Assign, ast.AugAssign, ast.Delete, ast.Call
)  # fmt: skip
"""The node types the Python rules read; the rest of a tree only leads to them."""


@functools.lru_cache(maxsize=32)
def parsed_nodes(source: str) -> tuple[ast.AST, ...]:
    """The nodes of `source`'s syntax tree that the rules read (`RULE_NODES`), in `ast.walk`
    order (iterative, so deep code cannot exhaust the stack). Cached: a script's content is read
    by more than one rule (training findings, the general Python rules) and often run more than
    once."""
    return _walk(ast.parse(source))


def _walk(tree: ast.AST) -> tuple[ast.AST, ...]:
    """`ast.walk`'s breadth-first order, kept to `RULE_NODES`. Faster than `ast.walk` (no
    generator per node, no `Load`/`Store` context nodes, field names looked up once per node
    type): a script's tree is walked once per content, and this was half of reading a script.
    Leaves (names, constants, operators: half of a tree) are never queued, since they hold
    nothing; the nodes kept, and their order, are the same."""
    seen: list[ast.AST] = [tree]
    kept: list[ast.AST] = []
    keep, queue = kept.append, seen.append
    fields_of, leaves, rule_types, node_type = _CHILD_FIELDS, _LEAVES, _RULE_TYPES, ast.AST
    for node in seen:  # the list grows as it is read: a queue without popping
        kind = type(node)
        if kind in rule_types:
            keep(node)
        fields = fields_of.get(kind)
        if fields is None:
            fields = _child_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if type(item) not in leaves and isinstance(item, node_type):
                        queue(item)
            elif type(value) not in leaves and isinstance(value, node_type):
                queue(value)
    return tuple(kept)


def _child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node type that can hold nodes (not `ctx`, names or constants)."""
    fields = _CHILD_FIELDS.get(node_type)
    if fields is None:
        fields = tuple(name for name in node_type._fields if name not in _LEAF_FIELDS)
        _CHILD_FIELDS[node_type] = fields
    return fields


_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


_LEAF_FIELDS = frozenset(
    {"ctx", "id", "attr", "arg", "name", "names", "module", "level", "value_kind", "kind",
     "type_comment", "is_async", "conversion", "lineno", "col_offset"}
)  # fmt: skip
"""Fields that hold strings, numbers or a `Load`/`Store` marker, never a node worth reading.
(`names` of an import holds `alias` nodes, which the rules read from the import itself.)"""

_RULE_TYPES = frozenset(RULE_NODES)


def _node_types() -> Iterator[type[ast.AST]]:
    """Every node class (by subclassing, so no deprecated name of `ast` is looked up)."""
    pending: list[type[ast.AST]] = [ast.AST]
    while pending:
        kind = pending.pop()
        yield kind
        pending.extend(kind.__subclasses__())


_LEAVES = frozenset(
    kind
    for kind in _node_types()
    if kind not in _RULE_TYPES and (issubclass(kind, ast.Constant) or not _child_fields(kind))
)
"""Node types that hold no node: a `Name`, an operator, a context marker, and a `Constant`
(whose `value` is a number, text, bytes or a tuple of them, never a node)."""


class _Visitor:
    """Looks at every node once (`parsed_nodes`): imports first, then calls."""

    def __init__(self, rules: PythonRules, nodes: tuple[ast.AST, ...], depth: int) -> None:
        self.rules = rules
        self.depth = depth
        self.parts: list[Classification] = []
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, ast.expr] = {}
        self.backward = False
        self.step = False
        self.hosts: list[str] = []
        self.requests: list[Classification] = []
        self.url_opened = False
        self.imported: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                self.imported.update(alias.name for alias in node.names)
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level == 0 and module:
                    self.imported.add(module)
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
                if module.split(".", 1)[0] in OVERSIGHT_ROOTS and any(
                    a.name == "*" for a in node.names
                ):
                    self.aliases["*oversight"] = module
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    self.constants[target.id] = node.value

    def run(self, nodes: tuple[ast.AST, ...]) -> None:
        for node in nodes:
            if isinstance(node, ast.Call):
                self.visit_call(node)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    self._assigned(target, "sets")
            elif isinstance(node, ast.AugAssign):
                self._assigned(node.target, "changes")
            elif isinstance(node, ast.Delete):
                for target in node.targets:
                    self._assigned(target, "deletes")

    def finish(self) -> list[Classification]:
        if self.url_opened:
            self.parts.extend(self.requests)
        if self.backward and self.step:
            self.parts.append(
                Classification(
                    Kind.TRAIN_LAUNCH, "python: runs a training loop (`.backward()` and `.step()`)"
                )
            )
        return self.parts

    def add(self, found: Classification, prefix: str = "python: ") -> None:
        self.parts.append(found.with_reason(prefix + found.reason))

    # names and values

    def dotted(self, node: ast.expr) -> str:
        """`sp.run` → `subprocess.run` after imports; calls and subscripts become `()`, `[]`."""
        return dotted_name(node, self.aliases)

    def text(self, node: ast.expr | None, hole: str = "*", depth: int = 0) -> str | None:
        """The string an expression evaluates to, with unknown parts as `hole`, or None."""
        if node is None or depth > 6:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.text(self.constants[node.id], hole, depth + 1)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                piece = (
                    self.text(value, hole, depth + 1) if isinstance(value, ast.Constant) else hole
                )
                parts.append(piece or hole)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
            left = self.text(node.left, hole, depth + 1)
            right = self.text(node.right, hole, depth + 1)
            if left is None and right is None:
                return None
            glue = "/" if isinstance(node.op, ast.Div) else ""
            return f"{left or hole}{glue}{right or hole}"
        if isinstance(node, ast.Call):
            name = self.dotted(node.func)
            if name.rsplit(".", 1)[-1] in ("Path", "PurePath", "PosixPath", "join") and node.args:
                pieces = [self.text(a, hole, depth + 1) or hole for a in node.args]
                return "/".join(pieces)
            if name == "shlex.split" and node.args:
                return self.text(node.args[0], hole, depth + 1)
        return None

    def argument(self, call: ast.Call, index: int, *keywords: str) -> ast.expr | None:
        if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
            return call.args[index]
        for keyword in call.keywords:
            if keyword.arg in keywords:
                return keyword.value
        return None

    def write(self, node: ast.expr | None, verb: str, deletes: bool = False) -> None:
        path = self.text(node) if node is not None else None
        found = self.rules.paths.writes([path or "<computed path>"], verb)
        if found is not None:
            self.add(with_data_loss(found, [path]) if deletes and path else found)

    def _assigned(self, target: ast.expr, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._assigned(element, verb)
            return
        if isinstance(target, ast.Subscript):
            owner = self.dotted(target.value)
            key = self.text(target.slice, hole="")
            if owner == "os.environ" and key is not None and self.rules.tampers_env(key):
                self.parts.append(
                    tamper(
                        f"python: {verb} os.environ[{key!r}], one of oversight's settings", [key]
                    )
                )
                return
            if owner == "sys.modules" and key is not None and "oversight" in key:
                self.parts.append(
                    tamper(f"python: {verb} sys.modules[{key!r}], replacing oversight", [key])
                )
                return
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            name = self.dotted(target)
            if name.split(".", 1)[0] in OVERSIGHT_ROOTS:
                self.parts.append(
                    tamper(f"python: {verb} `{name}`, patching oversight itself", [name])
                )

    # calls

    def visit_call(self, node: ast.Call) -> None:
        name = self.dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        self._env_keyword(node)
        self._destroys_rows(last, node)
        if name in SUBPROCESS or name.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
            self._subprocess(name, node)
        elif name in EXECUTORS and isinstance(node.func, (ast.Name, ast.Attribute)):
            self._executes(name, node)
        elif (
            name == "__import__"
            or name in HIDDEN_LOADERS
            or (
                name == "importlib.import_module"
                and self.text(self.argument(node, 0), hole="\0") in (None,)
            )
        ):
            self.parts.append(
                shell_exec(
                    f"python: `{name}` loads code by a name or bytes computed at run time",
                    "obfuscated",
                )
            )
        elif name in ("getattr", "setattr", "delattr") and node.args:
            owner = self.dotted(node.args[0])
            if owner in ("__builtins__", "builtins") and name == "getattr":
                self.parts.append(
                    shell_exec("python: reaches builtins through `getattr`", "obfuscated")
                )
            elif owner.split(".", 1)[0] in OVERSIGHT_ROOTS and name != "getattr":
                self.parts.append(
                    tamper(f"python: `{name}` on `{owner}` patches oversight itself", [owner])
                )
        elif name in OPENERS or (last == "open" and isinstance(node.func, ast.Attribute)):
            self._open(name, node)
        elif name in WRITING_FUNCTIONS:
            for index in WRITING_FUNCTIONS[name]:
                self.write(
                    self.argument(node, index, "dst", "path", "f", "file", "file_name"),
                    f"`{name}` writes",
                    deletes=name in DELETING_FUNCTIONS,
                )
        elif last in PATH_METHODS and isinstance(node.func, ast.Attribute):
            self.write(node.func.value, f"`.{last}()` writes", deletes=last in ("unlink", "rmdir"))
        elif (
            last in ("rename", "replace", "chmod")
            and isinstance(node.func, ast.Attribute)
            and self._is_path(node.func.value)
        ):
            self.write(node.func.value, f"`.{last}()` changes")
            if last != "chmod":
                self.write(self.argument(node, 0, "target"), f"`.{last}()` writes")
        elif last in SAVE_METHODS and node.args and self.text(node.args[0]) is not None:
            self.write(node.args[0], f"`.{last}()` writes")
        elif last in UPLOADS:
            self.parts.append(
                Classification(
                    Kind.DEPLOY,
                    f"python: `.{last}()` uploads for others to use",
                    frozenset({"publish", "network"}),
                    (last,),
                )
            )
        elif name in ("sqlite3.connect", "sqlalchemy.create_engine", "duckdb.connect"):
            self._connect(name, node)
        elif (
            last in ("execute", "executescript", "executemany", "exec_driver_sql")
            or name == "sqlalchemy.text"
        ):
            sql = self.text(self.argument(node, 0), hole="")
            if sql and changes_oversight_tables(sql):
                self.parts.append(tamper(f"python: `{last}` changes oversight's tables", ["sql"]))
        elif name in ("os.putenv", "os.unsetenv") or name.startswith("os.environ."):
            self._environ(name, node)
        elif last in ("patch", "setattr", "object") and node.args:
            first = node.args[0]
            target = self.text(first, hole="") or self.dotted(first)
            if target.split(".", 1)[0] in OVERSIGHT_ROOTS:
                self.parts.append(tamper(f"python: `{name}` patches `{target}`", [target]))
        elif name in ("runpy.run_path", "runpy.run_module"):
            run = self.text(self.argument(node, 0, "path_name", "mod_name"), hole="$?")
            if run is not None:
                words = ("python", run) if name.endswith("path") else ("python", "-m", run)
                self.add(self.rules.argv(words), f"python: `{name}` runs: ")
        elif last in ("system", "getoutput") and self.dotted(node.func).startswith("get_ipython()"):
            self._subprocess("os.system", node)
        else:
            self._purpose(name, last, node)
        if name.split(".", 1)[0] in NETWORK_ROOTS or last in ("request", "sendall", "send"):
            self._network(name, last, node)
        if name.split(".", 1)[0] in NETWORK_ROOTS:
            self.parts.append(shell_exec(f"python: `{name}` uses the network", "network"))

    def _network(self, name: str, last: str, node: ast.Call) -> None:
        """HTTP requests that change remote state and data sent off the machine
        (network_sends): `Request(url, data=..., method="PUT")`, `requests.post`,
        `conn.request("PUT", path)`, `sock.sendall(open(".env").read())`."""
        if last in ("HTTPConnection", "HTTPSConnection") or name in (
            "socket.create_connection",
            "socket.socket.connect",
        ):
            host = self.argument(node, 0, "host", "address")
            if isinstance(host, ast.Tuple) and host.elts:
                host = host.elts[0]
            text = self.text(host, hole="")
            if text:
                self.hosts.append(text)
            return
        urls: list[str] = []
        method: str | None = None
        body: list[ast.expr | None] = []
        if last in ("Request", "urlopen"):
            urls = [self.text(self.argument(node, 0, "url"), hole="") or ""]
            body = [self.argument(node, 1, "data")]
            method = self.text(self.argument(node, 99, "method"), hole="")
            if method is None and body[0] is not None:
                method = "POST"
        elif last in ("post", "put", "patch", "delete") and name.split(".", 1)[0] in (
            "requests",
            "httpx",
        ):
            urls = [self.text(self.argument(node, 0, "url"), hole="") or ""]
            method = last.upper()
            body = [self.argument(node, 99, k) for k in ("data", "json", "files", "content")]
        elif last == "request":
            method = self.text(self.argument(node, 0, "method"), hole="")
            path = self.text(self.argument(node, 1, "url"), hole="") or "/"
            urls = [u if "://" in u else f"//{u}{path}" for u in self.hosts] or [path]
            body = [self.argument(node, 2, "body")]
        elif last in ("sendall", "send"):
            urls = [f"//{h}" for h in self.hosts]
            body = [self.argument(node, 0, "data")]
        else:
            return
        sent = [p for b in body if b is not None for p in self._opened(b)]
        found = network_sends.judge(f"python: `{name}`", urls, method, sent)
        if last == "urlopen":
            self.url_opened = True
        if found is not None:
            # A `Request` object sends nothing until something opens it.
            (self.requests if last == "Request" else self.parts).append(found)

    def _opened(self, node: ast.expr) -> list[str]:
        """The literal paths `open(...)` calls inside `node` read (a name set from one too)."""
        if isinstance(node, ast.Name) and node.id in self.constants:
            node = self.constants[node.id]
        found: list[str] = []
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and self.dotted(inner.func) in OPENERS:
                path = self.text(self.argument(inner, 0, "file"), hole="")
                if path:
                    found.append(path)
        return found

    def _destroys_rows(self, last: str, node: ast.Call) -> None:
        """`cursor.execute("DROP TABLE ...")`, `session.run("MATCH (n) DETACH DELETE n")`,
        `db.drop_collection(...)`: deleting stored data, whatever the driver."""
        if last in DROPPING_METHODS and isinstance(node.func, ast.Attribute):
            self.parts.append(
                Classification(
                    Kind.FILE_WRITE,
                    f"python: `.{last}()` deletes stored data",
                    frozenset({DESTROYS_DATA}),
                    (last,),
                )
            )
            return
        if last not in QUERY_METHODS:
            return
        statement = self.text(self.argument(node, 0, "query", "statement", "sql"), hole="")
        found = destroys_rows(statement or "", f"python: `.{last}()`", (last,))
        if found is not None:
            self.parts.append(found)

    def _subprocess(self, name: str, node: ast.Call) -> None:
        argument = self.argument(node, 0, "args", "cmd", "command")
        if isinstance(argument, ast.Name) and argument.id in self.constants:
            argument = self.constants[argument.id]
        if (
            name.startswith(("os.exec", "os.spawn", "os.posix_spawn"))
            or name == "asyncio.create_subprocess_exec"
        ):
            lists = [a for a in node.args if isinstance(a, (ast.List, ast.Tuple))]
            if lists:
                argument = lists[0]
            else:
                skip = 1 if name.startswith(("os.exec", "os.spawn")) else 0
                words = tuple(self.text(a, hole="$?") or "$?" for a in node.args[skip:])
                if name.startswith("os.spawn"):
                    words = words[1:]
                self.add(self.rules.argv(words), f"python: `{name}` runs: ")
                return
        if isinstance(argument, (ast.List, ast.Tuple)):
            words = tuple(
                "python"
                if self.dotted(e) == "sys.executable"
                else (self.text(e, hole="$?") or "$?")
                for e in argument.elts
            )
            self.add(self.rules.argv(words), f"python: `{name}` runs: ")
            return
        script = self.text(argument, hole="$?")
        if script is not None:
            self.add(self.rules.script(script), f"python: `{name}` runs: ")
            return
        self.parts.append(
            shell_exec(
                f"python: `{name}` runs a command built at run time", "unresolved", targets=(name,)
            )
        )

    def _executes(self, name: str, node: ast.Call) -> None:
        argument = self.argument(node, 0, "source", "object")
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            if self.depth >= MAX_DEPTH:
                return
            try:
                inner = parsed_nodes(argument.value)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return
            visitor = _Visitor(self.rules, inner, self.depth + 1)
            visitor.aliases.update(self.aliases)
            visitor.run(inner)
            self.parts.extend(visitor.finish())
            return
        self.parts.append(
            shell_exec(
                f"python: `{name}` runs code computed at run time", "obfuscated", targets=(name,)
            )
        )

    def _open(self, name: str, node: ast.Call) -> None:
        method = isinstance(node.func, ast.Attribute) and name not in OPENERS
        mode_node = self.argument(node, 0 if method else 1, "mode")
        mode = self.text(mode_node, hole="") if mode_node is not None else "r"
        if mode is None or not any(c in mode for c in "wax+"):
            return
        if method and isinstance(node.func, ast.Attribute):
            self.write(node.func.value, f"`open({mode!r})` writes")
        else:
            self.write(self.argument(node, 0, "file"), f"`open({mode!r})` writes")

    def _is_path(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in self.constants:
            node = self.constants[node.id]
        return isinstance(node, ast.Call) and self.dotted(node.func).rsplit(".", 1)[-1] in (
            "Path",
            "PurePath",
            "PosixPath",
        )

    def _connect(self, name: str, node: ast.Call) -> None:
        target = self.text(self.argument(node, 0, "database", "url"), hole="")
        if not target:
            return
        path = re.sub(r"^sqlite(\+\w+)?:///", "", target)
        owned = self.rules.paths.tamper_pattern(path)
        if owned is not None:
            self.parts.append(
                tamper(f"python: `{name}` opens oversight's store `{path}` ({owned})", [path])
            )

    def _environ(self, name: str, node: ast.Call) -> None:
        method = name.rsplit(".", 1)[-1]
        if method == "clear":
            self.parts.append(
                tamper("python: `os.environ.clear()` removes oversight's settings", ["os.environ"])
            )
            return
        keys: list[str] = []
        if method in ("putenv", "unsetenv", "pop", "setdefault", "__setitem__", "__delitem__"):
            key = self.text(self.argument(node, 0, "key"), hole="")
            keys = [key] if key else []
        elif method == "update":
            keys = self._keys(node)
        for key in keys:
            if self.rules.tampers_env(key):
                self.parts.append(
                    tamper(f"python: `{name}` changes {key}, one of oversight's settings", [key])
                )
                return

    def _keys(self, node: ast.expr) -> list[str]:
        """String keys of a dict literal, `dict(...)` keywords, or `.update(...)` arguments."""
        keys: list[str] = []
        for child in ast.walk(node):
            if isinstance(child, ast.Dict):
                keys += [
                    k.value
                    for k in child.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                ]
            elif isinstance(child, ast.Call):
                keys += [k.arg for k in child.keywords if k.arg and _ENV_KEY.match(k.arg)]
        return keys

    def _env_keyword(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg in ("env", "environment", "env_vars", "runtime_env"):
                for key in self._keys(keyword.value):
                    if self.rules.tampers_env(key):
                        self.parts.append(
                            tamper(
                                f"python: passes {key} in `{keyword.arg}=`, overriding oversight's settings",
                                [key],
                            )
                        )
                        return

    def _purpose(self, name: str, last: str, node: ast.Call) -> None:
        """Training, evaluation and deployment named by the call itself."""
        receiver = name.rsplit(".", 1)[0].lower() if "." in name else ""
        if last in ENTRY_POINTS and receiver and self._entry_point(name):
            return
        if last in ("train", "fit") and "trainer" in receiver:
            self.parts.append(
                Classification(
                    Kind.TRAIN_LAUNCH, f"python: `{name}()` starts training", targets=(name,)
                )
            )
            return
        if last == "fit" and any(k.arg == "epochs" for k in node.keywords):
            self.parts.append(
                Classification(
                    Kind.TRAIN_LAUNCH,
                    f"python: `{name}(epochs=...)` trains a model",
                    targets=(name,),
                )
            )
            return
        if last == "evaluate" and "trainer" in receiver:
            self.parts.append(
                Classification(
                    Kind.EVAL_RUN, f"python: `{name}()` runs an evaluation", targets=(name,)
                )
            )
            return
        if name in ("inspect_ai.eval", "inspect_ai.eval_set", "inspect_ai.eval_retry"):
            self.parts.append(
                Classification(
                    Kind.EVAL_RUN, f"python: `{name}()` runs an Inspect evaluation", targets=(name,)
                )
            )
            return
        if last == "backward":
            self.backward = True
        elif last == "step" and "sched" not in receiver:
            self.step = True
        if not last[:1].islower() or last in ("train", "eval", "train_test_split"):
            return
        words = split_words(last)
        if not words or words[0] in NOT_ACTIONS:
            return
        found = purpose(words)
        if found is not None:
            kind, word = found
            self.parts.append(
                Classification(kind, f"python: calls `{name}()` (word `{word}`)", targets=(name,))
            )

    def _entry_point(self, name: str) -> bool:
        """`import train; train.main()` runs the module as `python -m train` would: what that
        command means (training, by the module's name) is what this call means. Only a module
        the code imported counts, and only a consequential meaning is kept (`uvicorn.run()`
        stays plain code); `help(train.main)` calls nothing of it."""
        module = name.rsplit(".", 1)[0]
        if module not in self.imported:
            return False
        found = self.rules.argv(("python", "-m", module))
        if not outranks(found.kind, Kind.EXPERIMENT_RUN):
            return False
        self.add(found, f"python: `{name}()` runs module `{module}`, as ")
        return True


ENTRY_POINTS = word_set("main run cli launch start train fit")
"""Functions that run a module the way `python -m module` does."""


def dotted_name(node: ast.expr, aliases: Mapping[str, str] | None = None) -> str:
    """`a.b().c` for a call's target; names are replaced through `aliases` (imports)."""
    aliases = aliases or {}
    parts: list[str] = []
    for _ in range(32):
        if isinstance(node, ast.Name):
            parts.append(aliases.get(node.id, node.id))
            break
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        elif isinstance(node, ast.Subscript):
            parts.append("[]")
            node = node.value
        else:
            parts.append("?")
            break
    else:
        parts.append("?")
    text = ""
    for part in reversed(parts):
        text = text + part if part in ("()", "[]") or not text else f"{text}.{part}"
    return text
