"""PowerShell commands (Codex Desktop on Windows): what each cmdlet reads, writes or runs.

Read as bash, `Get-Content code\\x.py | Select-Object -First 50` is a vague `shell.exec` and
`(Get-Content f) -replace 'a','b' | Set-Content code\\evaluate.py` hides a write to evaluation
code. `looks_like_powershell` recognises PowerShell-only syntax (conservatively: bash is never
taken for it), and `classify_powershell` reads the statements: cmdlets that only read make a
`file.read` when every part reads, writes go through the same `PathRules` as bash (so
protected and oversight paths are judged alike), deletions mark lost data, and programs
(`python train.py`, `git push`) are handed to the bash classifier. Anything it cannot read is
`shell.exec` with `unresolved`: it fails closed, never `file.read` when unsure.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable

from oversight.classify.argv import word_set
from oversight.classify.destructive import with_data_loss
from oversight.classify.eval_code import judge_content
from oversight.classify.paths import DEFAULT_TAMPER_ENV_PREFIXES, PathRules
from oversight.classify.powershell_syntax import Element, Statement, Token, Unreadable, parse
from oversight.classify.result import Classification, combine, tamper
from oversight.kinds import Kind

UNRESOLVED = "unresolved"
OBFUSCATED = "obfuscated"
NETWORK = "network"

# -- recognising PowerShell -------------------------------------------------------------------

_VERBS = (
    "Get|Set|New|Remove|Copy|Move|Rename|Add|Clear|Select|Where|ForEach|Sort|Group|Measure|Test"
    "|Resolve|Split|Join|Write|Out|Format|ConvertTo|ConvertFrom|Invoke|Start|Stop|Import|Export"
    "|Expand|Compress|Tee|Push|Pop|Compare|Wait|Update|Convert"
)
# A Verb-Noun cmdlet where a command starts (text start, after `;`, `|`, `(`, `{`, `=`, `&&`).
_CMDLET = re.compile(rf"(?:^|[;|({{=&\n])[ \t]*(?:{_VERBS})-[A-Z][A-Za-z]+\b", re.MULTILINE)
_STATIC_CALL = re.compile(r"\[(?:System\.)?[A-Za-z][\w.]*\]::[A-Za-z]\w*")
_ASSIGNMENT = re.compile(r"^[ \t]*\$[\w:]+[ \t]+=[ \t]+\S", re.MULTILINE)
_HERE_STRING = re.compile(r"@['\"][ \t]*\r?\n(?:.*\n)*?['\"]@", re.DOTALL)
_FOREACH = re.compile(r"\bforeach[ \t]*\([ \t]*\$\w+[ \t]+in[ \t]", re.IGNORECASE)
_ALIAS_PARAM = re.compile(
    r"(?:^|[;|\n])[ \t]*(?:rm|del|ri|ls|dir|gci|cp|mv|cat|gc|sls|echo|mkdir|ni)\b[^\n;|]*?[ \t]"
    r"-(?:Recurse|Force|LiteralPath|Path|ErrorAction|ItemType|Encoding|Raw|Filter|Include"
    r"|Exclude|Destination)\b",
    re.MULTILINE,
)
# Syntax PowerShell does not have: a text with these is bash whatever else it holds.
_BASH_ONLY = re.compile(
    r"<<|\$\(\(|\[\[ |\$\{\w+:[-=+?]|/dev/null|(?:^|[;&|\n])[ \t]*(?:fi|done|esac|then)\b"
    r"|(?:^|[;&|\n])[ \t]*export[ \t]+\w+=",
    re.MULTILINE,
)
# `powershell -enc ...` and `& "C:\\prog.exe"` / `& $cmd` (a syntax error in bash)
_ENCODED_HOST = re.compile(
    r"(?:^|[;|&\n])[ \t]*(?:powershell|pwsh)(?:\.exe)?\b[^\n;|]*?[ \t]-(?:e|ec|enc|encodedcommand)\b",
    re.IGNORECASE | re.MULTILINE,
)
_CALL_OPERATOR = re.compile(r"(?:^|[;\n{])[ \t]*&[ \t]*[\"'$({]", re.MULTILINE)
_QUOTED = re.compile(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"")


_CAPITAL_OPTION = re.compile(r"-[A-Z]")


def looks_like_powershell(text: str) -> bool:
    """True only when the text uses syntax that PowerShell has and bash does not.

    Each sign is searched for only when the text holds what it needs (a `$`, a `&`, `-X`, ...):
    blanking quoted strings only removes characters, so a sign the raw text cannot hold is not
    in the blanked text either. Most bash holds few of them, and each sign's search tries every
    position of the text."""
    if not text:
        return False
    here = "@'" in text or '@"' in text
    dollar = "$" in text
    amp = "&" in text
    static = "]::" in text
    option = _CAPITAL_OPTION.search(text) is not None
    folded = text.casefold()  # as `(?i)` matches: `ſ` is an `s` to it
    host = "pwsh" in folded or "powershell" in folded
    if not (here or dollar or amp or static or option or host) or _BASH_ONLY.search(text):
        return False
    if here and _HERE_STRING.search(text):
        return True
    # a cmdlet named inside a quoted string (`echo "use Get-Content"`) does not count
    bare = _QUOTED.sub("''", text)
    return bool(
        (option and _CMDLET.search(bare))
        or (host and _ENCODED_HOST.search(bare))
        or (amp and _CALL_OPERATOR.search(bare))
        or (static and _STATIC_CALL.search(bare))
        or (dollar and (_ASSIGNMENT.search(bare) or _FOREACH.search(bare)))
        or (option and _ALIAS_PARAM.search(bare))
    )


# -- what each cmdlet does --------------------------------------------------------------------

ALIASES: dict[str, str] = {
    "gc": "get-content", "cat": "get-content", "type": "get-content",
    "gci": "get-childitem", "ls": "get-childitem", "dir": "get-childitem",
    "sls": "select-string", "select": "select-object", "measure": "measure-object",
    "gi": "get-item", "gp": "get-itemproperty", "rvpa": "resolve-path",
    "echo": "write-output", "write": "write-output",
    "fl": "format-list", "ft": "format-table", "fw": "format-wide", "fc": "format-custom",
    "sort": "sort-object", "group": "group-object", "where": "where-object",
    "?": "where-object", "foreach": "foreach-object", "%": "foreach-object",
    "pwd": "get-location", "gl": "get-location", "cd": "set-location", "chdir": "set-location",
    "sl": "set-location", "pushd": "push-location", "popd": "pop-location",
    "gcm": "get-command", "help": "get-help", "man": "get-help", "ps": "get-process",
    "gps": "get-process", "gm": "get-member", "diff": "compare-object",
    "compare": "compare-object", "ipcsv": "import-csv", "gv": "get-variable",
    "gal": "get-alias", "gmo": "get-module", "h": "get-history", "history": "get-history",
    "sc": "set-content", "ac": "add-content", "clc": "clear-content", "ni": "new-item",
    "md": "new-item", "mkdir": "new-item", "cp": "copy-item", "copy": "copy-item",
    "cpi": "copy-item", "mv": "move-item", "move": "move-item", "mi": "move-item",
    "ren": "rename-item", "rni": "rename-item", "rm": "remove-item", "del": "remove-item",
    "erase": "remove-item", "rd": "remove-item", "rmdir": "remove-item", "ri": "remove-item",
    "iwr": "invoke-webrequest", "irm": "invoke-restmethod", "iex": "invoke-expression",
    "icm": "invoke-command", "saps": "start-process", "start": "start-process",
    "kill": "stop-process", "spps": "stop-process", "sleep": "start-sleep",
    "epcsv": "export-csv", "tee": "tee-object", "sp": "set-itemproperty", "si": "set-item",
    "sv": "set-variable", "set": "set-variable", "nal": "new-alias", "sal": "set-alias",
    "ipmo": "import-module", "cls": "clear-host", "clear": "clear-host", "r": "invoke-history",
    "ihy": "invoke-history",
}  # fmt: skip

READERS = word_set(
    """
    get-content get-childitem select-string select-object measure-object test-path get-item
    get-itemproperty get-itempropertyvalue resolve-path convert-path split-path join-path
    write-output write-host write-verbose write-warning write-debug write-information
    write-error format-list format-table format-wide format-custom out-string out-null
    out-host out-default sort-object group-object where-object foreach-object get-location
    set-location push-location pop-location get-date get-command get-help get-acl get-filehash
    get-process get-member get-unique compare-object convertfrom-json convertto-json
    convertfrom-csv convertto-csv convertfrom-stringdata import-csv import-clixml get-variable
    get-alias get-module get-psdrive get-host get-culture get-service get-computerinfo
    get-history add-member select-xml measure-command get-random get-uptime get-error
    new-timespan get-timezone clear-host get-executionpolicy get-psprovider
    """
)
# Known, and neither reading nor a write this reader can name.
NEUTRAL = word_set("start-sleep set-variable clear-variable remove-variable new-variable")
# Tampering with how later commands resolve, or running code this reader cannot see.
UNREADABLE = word_set(
    """
    set-alias new-alias import-module add-type invoke-history set-executionpolicy
    register-scheduledtask new-service start-job start-threadjob
    """
)
WRITERS = word_set(
    """
    set-content add-content clear-content out-file tee-object new-item copy-item move-item
    rename-item remove-item expand-archive compress-archive export-csv export-clixml
    set-itemproperty set-item set-acl new-itemproperty remove-itemproperty
    """
)
# Writers whose target is -Path/-LiteralPath/-FilePath or the first positional argument.
CONTENT_WRITERS = word_set(
    """
    set-content add-content out-file tee-object export-csv export-clixml set-itemproperty
    set-item set-acl new-itemproperty remove-itemproperty
    """
)
WEB = word_set("invoke-webrequest invoke-restmethod start-bitstransfer")
# `curl`/`wget` with these are PowerShell 5's Invoke-WebRequest aliases; otherwise the programs.
WEB_PARAMS = word_set("uri outfile method body infile usebasicparsing headers")
# Type names whose construction does nothing outside the process.
PURE_TYPES = re.compile(
    r"^(?:system\.)?(?:text\.\w+encoding|text\.stringbuilder|collections\.[\w.`\[\]]+"
    r"|management\.automation\.psobject|psobject|psobject\[\]|object|datetime|timespan|random"
    r"|string|guid|io\.fileinfo|io\.directoryinfo|uri)$"
)

# Parameters that take a value (the rest are switches), shared by the cmdlets read here.
VALUED = word_set(
    """
    path literalpath lp pspath filepath destination destinationpath outfile newname value
    encoding itemtype name filter include exclude first last skip skiplast index pattern
    context property expandproperty excludeproperty depth uri method body infile headers
    contenttype argumentlist args workingdirectory verb erroraction ea warningaction wa
    errorvariable ev outvariable ov delimiter totalcount head tail readcount inputobject
    scriptblock command computername credential id processname seconds milliseconds format
    membername notepropertyname notepropertyvalue membertype width stream typename
    culture groupby count variable referenceobject differenceobject target type
    informationaction pipelinevariable equal
    """
)
PATH_PARAMS = ("literalpath", "lp", "pspath", "path", "filepath")
DEST_PARAMS = ("destination", "destinationpath")
WEB_SEND = word_set("post put patch delete")
POWERSHELL_HOSTS = word_set("powershell pwsh powershell_ise")
ENCODED = word_set("-encodedcommand -enc -ec -e -en -enco -encod -encode -encoded")
PROGRAM_SUFFIXES = (".exe", ".cmd", ".bat", ".com")
_NUMBER = re.compile(r"^[-+]?(?:\d[\d_]*(?:\.\d+)?(?:e[-+]?\d+)?[kmgtp]?b?|\d+\.\.\d+|0x[\da-f]+)$")
_VAR_REF = re.compile(r"\$\{([^}]+)\}|\$((?:env:)?\w+)")

KEYWORDS = word_set(
    """
    if elseif else while for do until switch try catch finally trap return break continue
    throw exit param begin process end
    """
)
DEFINITIONS = word_set("function filter class enum workflow configuration")

PURE_METHODS = word_set(
    """
    replace trim trimend trimstart split substring tostring tolower toupper tolowerinvariant
    toupperinvariant contains startswith endswith indexof lastindexof join format padleft
    padright equals gettype getstring getbytes matches match ismatch escape unescape toarray
    containskey containsvalue where foreach sum max min round floor ceiling abs sqrt pow
    add addrange insert remove removeat clear getfilename getfilenamewithoutextension
    getextension getdirectoryname getfullpath combine changeextension getrelativepath
    isnullorempty isnullorwhitespace compare parse tryparse now getenvironmentvariable
    readalltext readalllines readallbytes readlines exists getfiles getdirectories
    enumeratefiles enumeratedirectories getfilesystementries sort reverse count getvalue
    tojson frombase64string tobase64string normalize getlength gethashcode
    new getcurrentdirectory gettemppath getcommandlinearguments
    """
)
# Static and member calls that write files: the first argument is the path written.
FILE_WRITES = word_set(
    """
    writealltext writealllines writeallbytes appendalltext appendalllines create createtext
    appendtext createdirectory
    """
)
FILE_MOVES = word_set("copy move replace")
FILE_DELETES = word_set("delete")
FILE_TYPES = word_set("io.file io.directory file directory")
# Classes whose static methods in PURE_METHODS compute values and touch nothing.
PURE_STATIC_TYPES = word_set(
    """
    io.path io.file io.directory math string regex convert text.encoding environment datetime
    guid char int double text.regularexpressions.regex linq.enumerable array io.directoryinfo
    io.fileinfo uri timespan
    """
)

ShellFallback = Callable[[str], Classification]


def classify_powershell(
    text: str,
    paths: PathRules,
    shell_fallback: ShellFallback,
    env_prefixes: Iterable[str] = DEFAULT_TAMPER_ENV_PREFIXES,
) -> Classification:
    """What a PowerShell script does; reasons start `PowerShell: `."""
    try:
        statements = parse(text)
    except (Unreadable, RecursionError) as problem:
        return Classification(
            Kind.SHELL_EXEC,
            f"PowerShell: the command could not be read ({problem}), so it may do anything",
            frozenset({UNRESOLVED}),
        )
    reader = _Script(paths, shell_fallback, tuple(env_prefixes))
    reader.block(statements)
    return reader.result()


class _Script:
    """Walks the statements, collecting one classification per command or expression."""

    def __init__(
        self, paths: PathRules, fallback: ShellFallback, env_prefixes: tuple[str, ...]
    ) -> None:
        self.paths = paths
        self.fallback = fallback
        self.env_prefixes = env_prefixes
        self.parts: list[Classification] = []
        self.read_by: dict[str, None] = {}
        self.bound: dict[str, list[str]] = {"true": ["True"], "false": ["False"], "null": [""]}

    # -- results ----------------------------------------------------------------------------

    def result(self) -> Classification:
        if not self.parts:
            return Classification(
                Kind.FILE_READ, "PowerShell: runs nothing (only comments or literals)"
            )
        found = combine(self.parts, numbered="command")
        if found.kind is Kind.FILE_READ:
            shown = ", ".join(f"`{name}`" for name in list(self.read_by)[:4])
            return found.with_reason(f"PowerShell: only reads ({shown}): observation, not action")
        return found.with_reason(f"PowerShell: {found.reason}")

    def reads(self, name: str, targets: Iterable[str] = ()) -> None:
        self.read_by[name] = None
        self.parts.append(
            Classification(Kind.FILE_READ, f"`{name}` only reads", targets=tuple(targets))
        )

    def unresolved(self, reason: str, targets: Iterable[str] = ()) -> None:
        self.parts.append(
            Classification(Kind.SHELL_EXEC, reason, frozenset({UNRESOLVED}), tuple(targets))
        )

    def write(
        self,
        targets: list[str] | None,
        verb: str,
        *,
        deletes: bool = False,
        text: str = "",
        partial: bool = False,
    ) -> None:
        if not targets:
            self.parts.append(
                Classification(
                    Kind.FILE_WRITE,
                    f"{verb} a path computed at run time",
                    frozenset({UNRESOLVED}),
                )
            )
            return
        shown = [t.replace("\\", "/") for t in targets]
        env = [t for t in shown if t.lower().startswith("env:")]
        if env:
            self.env(env[0][4:], verb)
            shown = [t for t in shown if t not in env]
            if not shown:
                return
        found = self.paths.writes(shown, verb)
        if found is None:
            return
        if deletes:
            found = with_data_loss(found, shown)
        if text:
            found = judge_content(found, shown, text, lambda var: var.startswith(self.env_prefixes))
        self.parts.append(found.with_flags(UNRESOLVED) if partial else found)

    def env(self, name: str, verb: str) -> None:
        if name.upper().startswith(self.env_prefixes):
            self.parts.append(tamper(f"{verb} `{name}`, one of oversight's settings", (name,)))
        else:
            self.parts.append(
                Classification(Kind.SHELL_EXEC, f"{verb} environment variable `{name}`")
            )

    # -- walking ----------------------------------------------------------------------------

    def block(self, statements: list[Statement]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, statement: Statement) -> None:
        upstream: Element | None = None
        for element in statement.elements:
            self.element(element, upstream)
            upstream = element

    def element(self, element: Element, upstream: Element | None) -> None:
        tokens = self.redirects(element)
        if not tokens:
            return
        first = tokens[0]
        if first.kind == "word" and not first.expands:
            name = first.value.lower()
            if name in DEFINITIONS:
                self.unresolved(f"defines `{name}` {_word(tokens, 1)}: calls to it are not read")
                self.expression(tokens[1:])
                return
            if name == "foreach" and len(tokens) > 1 and tokens[1].text == "(":
                self.foreach(tokens)
                return
            if name in KEYWORDS:
                self.expression(tokens[1:])
                return
            if not _NUMBER.match(name) and not name.startswith(("-", "!")):
                self.command(name, tokens[1:], upstream)
                return
        if first.kind == "op" and first.text == "&":
            self.call(tokens[1:], upstream)
            return
        if first.kind in ("var", "group") and len(tokens) > 1 and _assigns(tokens):
            self.assignment(tokens)
            return
        self.expression(tokens)

    def redirects(self, element: Element) -> Element:
        """The element without its redirections; writing ones are recorded."""
        kept: Element = []
        i = 0
        while i < len(element):
            token = element[i]
            if token.kind != "redirect":
                kept.append(token)
                i += 1
                continue
            if "&" in token.text:
                i += 1
                continue
            target = element[i + 1] if i + 1 < len(element) else None
            i += 2
            if target is None:
                self.unresolved(f"redirects output (`{token.text}`) to nothing it names")
                continue
            values = self.values([target])
            if values is not None and all(v.lower() == "$null" or v == "" for v in values):
                continue
            if target.kind == "var" and target.text == "null":
                continue
            self.write(values, f"redirects output (`{token.text}`) into", partial=_partial(values))
        return kept

    def foreach(self, tokens: Element) -> None:
        head = tokens[1].body or []
        loop = head[0].elements[0] if head and head[0].elements else []
        if len(loop) >= 3 and loop[0].kind == "var" and loop[1].value.lower() == "in":
            values = self.values(loop[2:])
            self.expression(loop[2:])
            if values is None:
                self.bound.pop(loop[0].text, None)
            else:
                self.bound[loop[0].text] = values
        else:
            self.expression(tokens[1:2])
        self.expression(tokens[2:])

    def assignment(self, tokens: Element) -> None:
        split = next(i for i, t in enumerate(tokens) if t.kind == "op" and t.text.endswith("="))
        target = tokens[0]
        rhs = tokens[split + 1 :]
        self.expression(tokens[1:split])
        name = target.text if target.kind == "var" and split == 1 else ""
        if any(t.kind == "member" for t in tokens[1:split]):
            self.parts.append(
                Classification(Kind.SHELL_EXEC, "sets a property of an object (`$x.Name = ...`)")
            )
        if name.startswith("env:"):
            self.env(target.value[4:] or name[4:], "sets")
        if rhs:
            self.element(rhs, None)
        if not name:
            return
        values = self.rhs_values(rhs) if tokens[split].text == "=" else None
        if values is None:
            self.bound.pop(name, None)
        else:
            self.bound[name] = values

    def rhs_values(self, rhs: Element) -> list[str] | None:
        if rhs and rhs[0].kind == "word" and not rhs[0].expands:
            return self.path_command(rhs[0].value.lower(), rhs[1:])
        return self.values(rhs)

    def path_command(self, name: str, args: Element) -> list[str] | None:
        """`Resolve-Path x` and `Join-Path a b` name paths: their value is known."""
        name = ALIASES.get(name, name)
        if name not in ("resolve-path", "convert-path", "get-item", "join-path"):
            return None
        named, positional = self.arguments(args)
        first = _param(named, PATH_PARAMS) or (positional[0] if positional else None)
        if not first:
            return None
        if name != "join-path":
            return first
        child = _param(named, ("childpath",)) or (positional[1] if len(positional) > 1 else None)
        if child is None or len(first) != 1:
            return None
        return [posixpath.join(first[0].replace("\\", "/"), c.replace("\\", "/")) for c in child]

    def expression(self, tokens: Element) -> None:
        """An expression reads unless a method call or nested command in it acts."""
        previous: Token | None = None
        for token in tokens:
            if token.kind == "member" and token.body is not None:
                self.method(token, previous)
            if token.kind == "group" and token.body is not None and token.text == "@{":
                self.hashtable(token.body)
            elif token.kind == "group" and token.body is not None:
                self.block(token.body)
            for inner in token.inner:
                self.block(inner)
            if token.kind != "member" or token.body is None:
                previous = token

    def hashtable(self, body: list[Statement]) -> None:
        for statement in body:
            for element in statement.elements:
                eq = next(
                    (i for i, t in enumerate(element) if t.kind == "op" and t.text == "="), -1
                )
                self.expression(element[eq + 1 :])

    def method(self, token: Token, owner: Token | None) -> None:
        """`[IO.File]::WriteAllText(path, ...)` writes; `.Replace(...)` only computes."""
        name = token.text
        args = _split_commas(_flatten(token.body or []))
        typed = owner.text if owner is not None and owner.kind == "type" else ""
        static = typed.lower().removeprefix("system.")
        shown = f"`[{typed}]::{token.value}`"
        for arg in args:
            self.expression(arg)
        first = self.values(args[0]) if args else None
        if static in FILE_TYPES and name in FILE_WRITES:
            writes_text = len(args) > 1 and name.startswith(("write", "append"))
            self.write(first, f"{shown} writes", text=_literal(args[1]) if writes_text else "")
        elif static in FILE_TYPES and name in FILE_MOVES:
            both = [self.values(a) for a in args[:2]]
            targets = None if None in both else [v for group in both if group for v in group]
            self.write(targets, f"{shown} moves")
        elif static in FILE_TYPES and name in FILE_DELETES:
            self.write(first, f"{shown} deletes", deletes=True)
        elif static == "environment" and name == "setenvironmentvariable":
            self.env(first[0] if first else "?", "sets")
        elif (not static or static in PURE_STATIC_TYPES) and name in PURE_METHODS:
            return
        else:
            where = f"[{typed}]::" if static else "."
            self.unresolved(f"calls `{where}{token.value}(...)`, which this reader does not know")

    # -- commands ---------------------------------------------------------------------------

    def call(self, tokens: Element, upstream: Element | None) -> None:
        """`& 'prog' args` / `& $cmd` / `& { block }`."""
        if not tokens:
            self.unresolved("the call operator `&` has nothing to run")
            return
        head = tokens[0]
        if head.kind == "group" and head.text == "{" and head.body is not None:
            self.block(head.body)
            return
        values = self.values([head])
        if values is None or len(values) != 1 or head.expands:
            self.expression(tokens)
            self.unresolved("`&` runs a program whose name is computed at run time")
            return
        self.command(values[0].lower(), tokens[1:], upstream, shown=values[0])

    def command(
        self, name: str, args: Element, upstream: Element | None, shown: str | None = None
    ) -> None:
        shown = shown or name
        self.expression(args)
        cmdlet = ALIASES.get(name, name)
        if name in ("curl", "wget") and not any(
            _is_param(t) and t.value.lower().lstrip("-") in WEB_PARAMS for t in args
        ):
            cmdlet = name  # PowerShell 7 runs curl.exe / wget.exe: a program
        if cmdlet in READERS:
            self.reader(cmdlet, args)
        elif cmdlet in WRITERS:
            self.writer(cmdlet, args, upstream)
        elif cmdlet in WEB:
            self.web(cmdlet, args)
        elif cmdlet == "new-object":
            self.new_object(args)
        elif cmdlet == "invoke-expression":
            literal = _literal(args) if args else ""
            self.parts.append(
                Classification(
                    Kind.SHELL_EXEC,
                    "`Invoke-Expression` runs text as code",
                    frozenset({OBFUSCATED}),
                )
            )
            if literal:
                self.block(_parse_or_empty(literal))
        elif cmdlet == "invoke-command":
            self.invoke_command(args)
        elif cmdlet == "start-process":
            self.start_process(args)
        elif cmdlet == "stop-process":
            self.stop_process(args)
        elif cmdlet in NEUTRAL:
            self.parts.append(Classification(Kind.SHELL_EXEC, f"runs `{shown}`"))
        elif cmdlet in UNREADABLE or re.match(rf"^(?:{_VERBS.lower()})-\w+$", cmdlet):
            self.unresolved(f"runs `{shown}`, which this reader does not know")
        elif cmdlet.removesuffix(".exe") in POWERSHELL_HOSTS:
            self.powershell_host(args)
        elif cmdlet in (".", "cmd", "cmd.exe"):
            self.unresolved(f"runs `{shown}`, whose commands are not read")
        else:
            self.program(shown, args, upstream)

    def reader(self, cmdlet: str, args: Element) -> None:
        named, positional = self.arguments(args)
        targets: list[str] = []
        if cmdlet in ("get-content", "get-childitem", "select-string", "get-item", "test-path"):
            found = _param(named, PATH_PARAMS) or (positional[0] if positional else None)
            targets = [t.replace("\\", "/") for t in found or []]
        self.reads(_CANONICAL.get(cmdlet, cmdlet), targets)

    def writer(self, cmdlet: str, args: Element, upstream: Element | None) -> None:
        named, positional = self.arguments(args)
        path = _param(named, PATH_PARAMS)
        first = positional[0] if positional else None
        second = positional[1] if len(positional) > 1 else None
        verb = f"`{_CANONICAL.get(cmdlet, cmdlet)}`"
        partial = _partial
        if cmdlet in CONTENT_WRITERS:
            if cmdlet == "tee-object" and "variable" in named and path is None and first is None:
                self.reads("Tee-Object")
                return
            target = path or first
            value = _param(named, ("value",)) or (second if path is None else first)
            text = "\n".join(value) if value else _literal(upstream or [])
            self.write(target, f"{verb} writes", text=text, partial=partial(target))
        elif cmdlet == "clear-content":
            target = path or first
            self.write(target, f"{verb} empties", deletes=True, partial=partial(target))
        elif cmdlet == "new-item":
            target = path or first
            name = _param(named, ("name",))
            if target and name and len(target) == 1:
                target = [posixpath.join(target[0].replace("\\", "/"), n) for n in name]
            target = target or name
            kind = (_param(named, ("itemtype", "type")) or [""])[0].lower()
            creates = "a folder" if kind == "directory" else "a link" if "link" in kind else ""
            verb = f"{verb} creates {creates}".rstrip()
            value = _param(named, ("value",))
            self.write(target, verb, text="\n".join(value or []), partial=partial(target))
        elif cmdlet in ("copy-item", "expand-archive", "compress-archive"):
            dest = _param(named, DEST_PARAMS) or second
            if dest is None and cmdlet == "expand-archive":
                dest = ["."]
            self.write(dest, f"{verb} writes into", partial=partial(dest))
        elif cmdlet == "move-item":
            source = path or first
            dest = _param(named, DEST_PARAMS) or (second if path is None else first)
            both = (source or []) + (dest or []) if source and dest else None
            self.write(both, f"{verb} moves", partial=partial(both))
        elif cmdlet == "rename-item":
            source = path or first
            new = _param(named, ("newname",)) or (second if path is None else first)
            if source and new and len(source) == 1:
                folder = posixpath.dirname(source[0].replace("\\", "/"))
                both = source + [posixpath.join(folder, n) for n in new]
            else:
                both = None
            self.write(both, f"{verb} renames", partial=partial(both))
        else:  # remove-item
            every = [path, *positional] if path is not None or not positional else positional
            target = None if None in every else [v for group in every if group for v in group]
            self.write(target, f"{verb} deletes", deletes=True, partial=partial(target))

    def web(self, cmdlet: str, args: Element) -> None:
        named, positional = self.arguments(args)
        url = _param(named, ("uri",)) or (positional[0] if positional else None) or []
        method = (_param(named, ("method",)) or ["get"])[0].lower()
        sends = method in WEB_SEND or "infile" in named or "body" in named
        what = f"sends data ({method.upper()})" if sends else "makes a web request"
        name = _CANONICAL.get(cmdlet, cmdlet)
        self.parts.append(
            Classification(Kind.SHELL_EXEC, f"`{name}` {what}", frozenset({NETWORK}), tuple(url))
        )
        out = _param(named, ("outfile", "destination"))
        if out is not None:
            self.write(out, f"`{name}` downloads into", partial=_partial(out))

    def new_object(self, args: Element) -> None:
        named, _ = self.arguments(args)
        words = [t.value for t in args if t.kind in ("word", "str") and not _is_param(t)]
        kind = (_param(named, ("typename",)) or words or [""])[0]
        if "comobject" not in named and PURE_TYPES.match(kind.lower()):
            self.reads("New-Object")
            return
        flags = {UNRESOLVED} | ({NETWORK} if ".net." in f".{kind.lower()}" else set())
        self.parts.append(
            Classification(
                Kind.SHELL_EXEC,
                f"`New-Object {kind}` makes an object this reader does not know",
                frozenset(flags),
            )
        )

    def invoke_command(self, args: Element) -> None:
        named, _ = self.arguments(args)
        if "computername" in named or "session" in named:
            self.parts.append(
                Classification(
                    Kind.SHELL_EXEC,
                    "`Invoke-Command` runs on another computer",
                    frozenset({NETWORK}),
                )
            )
        if not any(t.kind == "group" and t.text == "{" for t in args):
            self.unresolved("`Invoke-Command` runs code this reader cannot see")

    def start_process(self, args: Element) -> None:
        named, positional = self.arguments(args)
        program = _param(named, ("filepath",)) or (positional[0] if positional else None)
        rest = (
            _param(named, ("argumentlist", "args"))
            or (positional[1] if len(positional) > 1 else None)
            or []
        )
        if program is None or len(program) != 1 or self.dynamic(args):
            self.parts.append(
                Classification(
                    Kind.SHELL_EXEC,
                    "`Start-Process` runs a program named at run time",
                    frozenset({OBFUSCATED, UNRESOLVED}),
                )
            )
            return
        line = [program[0], *(w for item in rest for w in _split_words(item))]
        found = self.run_line(line, None)
        flags = set() if "wait" in named else {"background"}
        verb = (_param(named, ("verb",)) or [""])[0].lower()
        if verb == "runas":
            flags.add("privileged")
        self.parts.append(found.with_flags(*flags) if flags else found)

    def stop_process(self, args: Element) -> None:
        named, positional = self.arguments(args)
        names = _param(named, ("name", "processname")) or (positional[0] if positional else None)
        if not names:
            self.parts.append(Classification(Kind.SHELL_EXEC, "`Stop-Process` stops a process"))
            return
        self.parts.append(self.run_line(["pkill", "-f", *names], None))

    def powershell_host(self, args: Element) -> None:
        words = [t.value.lower() for t in args if t.kind in ("word", "str")]
        if any(w in ENCODED for w in words):
            self.parts.append(
                Classification(
                    Kind.SHELL_EXEC,
                    "runs PowerShell with an encoded command (`-EncodedCommand`)",
                    frozenset({OBFUSCATED}),
                )
            )
            return
        for i, token in enumerate(args):
            if token.value.lower() in ("-command", "-c") and i + 1 < len(args):
                inner = " ".join(t.value for t in args[i + 1 :] if t.kind in ("word", "str"))
                if args[i + 1].kind == "group" and args[i + 1].body is not None:
                    self.block(args[i + 1].body or [])
                    return
                self.block(_parse_or_empty(inner, self))
                return
        self.unresolved("runs a PowerShell script whose commands are not read")

    def program(self, shown: str, args: Element, upstream: Element | None) -> None:
        """A program (`python`, `git`, `pip`...): the bash classifier knows what it does."""
        words = [shown]
        for token in args:
            if token.kind == "op" and token.text == ",":
                continue
            value = self.values([token])
            if value is None:
                words.append("$PS_EXPRESSION")
            else:
                words.extend(value)
        if any(w.lower() in ENCODED for w in words[1:]) and "powershell" in shown.lower():
            self.parts.append(
                Classification(Kind.SHELL_EXEC, "runs encoded text", frozenset({OBFUSCATED}))
            )
        stdin = _literal(upstream) if upstream else ""
        self.parts.append(self.run_line(words, stdin or None))

    def run_line(self, words: list[str], stdin: str | None) -> Classification:
        program = words[0].replace("\\", "/")
        base = posixpath.basename(program)
        for suffix in PROGRAM_SUFFIXES:
            if base.lower().endswith(suffix):
                program = program[: -len(suffix)]
        quoted = [_quote(program)] + [_quote(_unslash(w)) for w in words[1:]]
        line = " ".join(quoted)
        if stdin is not None:
            line = f"{line} <<'PS_HERE_STRING'\n{stdin}\nPS_HERE_STRING"
        found = self.fallback(line)
        if found.kind is Kind.FILE_READ:
            self.read_by[posixpath.basename(program)] = None
        return found.with_reason(found.reason.removeprefix("shell: "))

    # -- values -----------------------------------------------------------------------------

    def arguments(
        self, args: Element
    ) -> tuple[dict[str, list[str] | None], list[list[str] | None]]:
        """Named parameters (lower-case, no dash) and positional arguments, each as values.

        A value is None when it is computed at run time (it keeps its place among positionals).
        """
        groups = _arguments(args)
        named: dict[str, list[str] | None] = {}
        positional: list[list[str] | None] = []
        i = 0
        while i < len(groups):
            group = groups[i]
            head = group[0]
            if len(group) == 1 and _is_param(head):
                key, _, inline = head.value[1:].partition(":")
                key = key.lower()
                if inline:
                    named[key] = [inline]
                elif _valued(key) and i + 1 < len(groups) and not _is_param(groups[i + 1][0]):
                    named[_full_name(key)] = self.values(groups[i + 1])
                    i += 1
                else:
                    named[key] = ["true"]
                i += 1
                continue
            positional.append(self.values(group))
            i += 1
        return named, positional

    def values(self, tokens: Element) -> list[str] | None:
        """The literal values of one argument (`a,b` is two), or None if computed."""
        out: list[str] = []
        for piece in _split_commas(tokens):
            text = ""
            many: list[str] | None = None
            for token in piece:
                found = self.value(token)
                if found is None:
                    return None
                if len(found) == 1:
                    text += found[0]
                elif len(piece) == 1:
                    many = found
                else:
                    return None
            out.extend(many if many is not None else [text])
        return out

    def value(self, token: Token) -> list[str] | None:
        if token.kind == "word" or token.kind == "str":
            return [self.expand(token.value) if token.expands else token.value]
        if token.kind == "var":
            return self.bound.get(token.text)
        if token.kind == "group" and token.text in ("(", "@(", "$(") and token.body:
            if len(token.body) != 1 or len(token.body[0].elements) != 1:
                return None
            element = token.body[0].elements[0]
            return self.rhs_values(element)
        return None

    def expand(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = (match.group(1) or match.group(2)).lower()
            value = self.bound.get(name)
            return value[0] if value and len(value) == 1 else match.group(0)

        return _VAR_REF.sub(one, text)

    def dynamic(self, args: Element) -> bool:
        return any(t.kind == "var" and t.text not in self.bound for t in args)


# -- helpers ----------------------------------------------------------------------------------

_CANONICAL = {
    name.lower(): name
    for name in word_set(
        """
        Get-Content Get-ChildItem Select-String Select-Object Measure-Object Test-Path Get-Item
        Resolve-Path Write-Output Write-Host Sort-Object Where-Object ForEach-Object Set-Content
        Add-Content Clear-Content Out-File Tee-Object New-Item Copy-Item Move-Item Rename-Item
        Remove-Item Expand-Archive Compress-Archive Export-Csv Invoke-WebRequest
        Invoke-RestMethod Format-List Format-Table Set-Location Get-Location Join-Path Split-Path
        """
    )
}


def _assigns(tokens: Element) -> bool:
    for token in tokens[1:]:
        if token.kind == "op" and token.text.endswith("="):
            return True
        if token.kind not in ("member", "group"):
            return False
    return False


def _arguments(args: Element) -> list[Element]:
    """Tokens grouped into arguments: adjacent tokens and `a,b` lists are one argument."""
    groups: list[Element] = []
    joined = False
    for token in args:
        if token.kind == "op" and token.text == ",":
            if groups:
                groups[-1].append(token)
            joined = True
            continue
        if groups and (joined or not token.space):
            groups[-1].append(token)
        else:
            groups.append([token])
        joined = False
    return groups


def _flatten(statements: list[Statement]) -> Element:
    return [
        token for statement in statements for element in statement.elements for token in element
    ]


def _split_commas(tokens: Element) -> list[Element]:
    pieces: list[Element] = [[]]
    for token in tokens:
        if token.kind == "op" and token.text == ",":
            pieces.append([])
        else:
            pieces[-1].append(token)
    return [p for p in pieces if p]


def _is_param(token: Token) -> bool:
    text = token.value
    return token.kind == "word" and len(text) > 1 and text[0] == "-" and text[1].isalpha()


def _valued(key: str) -> bool:
    return key in VALUED or len([v for v in VALUED if v.startswith(key)]) == 1


def _full_name(key: str) -> str:
    if key in VALUED:
        return key
    return next(v for v in VALUED if v.startswith(key))


def _param(named: dict[str, list[str] | None], keys: Iterable[str]) -> list[str] | None:
    for key in keys:
        if key in named:
            return named[key]
    return None


def _partial(values: list[str] | None) -> bool:
    return bool(values) and any("$" in v for v in values or ())


def _literal(tokens: Element) -> str:
    """The text of a lone string (a here-string piped into a command), else ''."""
    if len(tokens) == 1 and tokens[0].kind == "str":
        return tokens[0].value
    return ""


def _word(tokens: Element, index: int) -> str:
    return f"`{tokens[index].value}`" if len(tokens) > index else ""


def _split_words(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=False)
    except ValueError:
        return text.split()


def _unslash(word: str) -> str:
    """`code\\train.py` → `code/train.py`: bash would read the backslash as an escape."""
    if "\\" in word and not any(c.isspace() for c in word):
        return word.replace("\\", "/")
    return word


def _quote(word: str) -> str:
    if word == "$PS_EXPRESSION":
        return '"$PS_EXPRESSION"'
    return shlex.quote(word)


def _parse_or_empty(text: str, script: _Script | None = None) -> list[Statement]:
    try:
        return parse(text)
    except (Unreadable, RecursionError):
        if script is not None:
            script.unresolved("runs PowerShell text that could not be read")
        return []
