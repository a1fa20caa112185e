"""Rules for running ML work: Python, training launchers, cluster jobs, eval and experiment CLIs.

A launcher (torchrun, deepspeed, accelerate launch, sbatch, ray job submit, sky launch...) is a
training launch unless what it runs is visibly an evaluation; then it is `eval.run`. Running any
other project script is an experiment.
"""

from __future__ import annotations

import re

from oversight.classify import inline_code
from oversight.classify.argv import (
    Argv,
    has,
    positionals,
    program_name,
    split_options,
    value,
    values,
    word_set,
)
from oversight.classify.result import RANK, Classification, tamper
from oversight.classify.toolkit import Rule, Run, Toolkit
from oversight.classify.words import EXPERIMENT_WORDS, purpose, split_words
from oversight.classify.wrappers import from_stdin, run_file, shell_exec
from oversight.kinds import Kind

_ENV_SETTING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*[=:]")

EVAL_MODULES = word_set(
    """
    lm_eval lighteval inspect_ai helm evalplus alpaca_eval opencompass mteb bigcodebench swebench
    evaluate
    """
)
TOOL_MODULES = word_set(
    """
    pytest unittest doctest mypy ruff black isort flake8 pylint venv virtualenv http.server
    json.tool pydoc site ensurepip timeit compileall py_compile zipfile tarfile build pip_audit
    coverage pyright tokenize ast dis platform sysconfig this calendar
    """
)
# `python -m X ...` runs the same code as the program `X ...`.
MODULE_PROGRAMS: dict[str, tuple[str, ...]] = {
    "pip": ("pip",),
    "torch.distributed.run": ("torchrun",),
    "torch.distributed.launch": ("torchrun",),
    "accelerate.commands.launch": ("accelerate", "launch"),
    "deepspeed.launcher.runner": ("deepspeed",),
    "lm_eval": ("lm_eval",),
    "twine": ("twine",),
    "wandb": ("wandb",),
    "jupyter": ("jupyter",),
    "nbconvert": ("jupyter", "nbconvert"),
    "papermill": ("papermill",),
    "huggingface_hub.commands.huggingface_cli": ("huggingface-cli",),
    "huggingface_hub.cli.hf": ("hf",),
    "oversight": ("oversight",),
    "uv": ("uv",),
    "mlflow": ("mlflow",),
    "dvc": ("dvc",),
    "sky": ("sky",),
    "modal": ("modal",),
    "inspect_ai": ("inspect",),
    "cProfile": ("python",),
    "profile": ("python",),
    "pdb": ("python",),
    "trace": ("python",),
    "memray": ("python",),
}


_DISTRIBUTED = "launches distributed training"


def as_job(
    label: str,
    inner: Classification,
    subject: str,
    program: str | None = None,
    action: str = "submits a training job",
) -> Classification:
    """A submitted job is a training launch unless it is visibly an eval (or something worse)."""
    program = program or label.strip("`")
    if inner.kind is Kind.EVAL_RUN:
        return Classification(
            Kind.EVAL_RUN,
            f"{label} runs an evaluation: {inner.reason}",
            inner.flags,
            (program, *inner.targets),
        )
    if RANK[inner.kind] > RANK[Kind.TRAIN_LAUNCH]:
        return inner.with_reason(f"{label}: {inner.reason}")
    return Classification(
        Kind.TRAIN_LAUNCH,
        f"{label} {action} ({subject})",
        inner.flags,
        (program, *inner.targets),
    )


def module_purpose(module: str) -> tuple[Kind, str] | None:
    if module.split(".", 1)[0] in EVAL_MODULES:
        return Kind.EVAL_RUN, f"evaluation module `{module}`"
    found = purpose(split_words(module))
    if found is None:
        return None
    kind, word = found
    return kind, f"module `{module}` (word `{word}`)"


def _target(kit: Toolkit, args: list[str] | Argv) -> tuple[Classification, str]:
    """What a launcher runs: `-m module`, a script or config file, or nothing visible."""
    for i, arg in enumerate(args):
        if arg in ("-m", "--module") and i + 1 < len(args):
            module = args[i + 1]
            found = module_purpose(module)
            kind = found[0] if found else Kind.EXPERIMENT_RUN
            why = found[1] if found else f"module `{module}`"
            return Classification(kind, why, targets=(module,)), f"`{module}`"
        if not arg.startswith("-") and arg.lower().endswith((".py", ".sh", ".yaml", ".yml")):
            kind, why = kit.script_kind(arg)
            return Classification(kind, why, targets=(arg,)), f"`{arg}`"
    return Classification(Kind.TRAIN_LAUNCH, "no script visible"), "no script visible"


def launcher(label: str, skip: int = 1) -> Rule:
    """torchrun, deepspeed, composer, `accelerate launch`...: the script decides train vs eval."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        inner, subject = _target(kit, argv[skip:])
        return as_job(f"`{label}`", inner, subject, action="launches distributed training")

    return rule


def mpi(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """mpirun/horovodrun options vary too much to parse; the program starts at a known name."""
    label = f"`{program_name(argv[0])}`"
    for i, arg in enumerate(argv[1:], start=1):
        if program_name(arg) in ("python", "torchrun", "bash", "sh", "deepspeed"):
            return as_job(label, kit.argv(argv[i:], run), f"`{arg}`", action=_DISTRIBUTED)
        if arg.endswith(".py"):
            found = kit.argv(("python", *argv[i:]), run)
            return as_job(label, found, f"`{arg}`", action=_DISTRIBUTED)
    no_program = Classification(Kind.TRAIN_LAUNCH, "no program visible")
    return as_job(label, no_program, "no program visible", action=_DISTRIBUTED)


def python(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`python [opts] (-c code | -m module | script | -)` as CPython reads its command line."""
    name = program_name(argv[0])
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        if arg.startswith("--"):
            i += 2 if arg == "--check-hash-based-pycs" else 1
            continue
        letters = arg[1:]
        step = 1
        for j, letter in enumerate(letters):
            if letter in "cmWX":
                attached = letters[j + 1 :]
                val = attached or (args[i + 1] if i + 1 < len(args) else "")
                step = 1 if attached else 2
                if letter == "c":
                    inner = kit.python(val)
                    return inner.with_reason(f"`{name} -c`: {inner.reason}")
                if letter == "m":
                    return _module(kit, val, args[i + step :], run, name)
                break
        i += step
    if i >= len(args) or args[i] == "-":
        return from_stdin(kit, run, name, "python")
    return run_file(kit, args[i], run, name)


def _module(kit: Toolkit, module: str, rest: Argv, run: Run, name: str) -> Classification:
    program = MODULE_PROGRAMS.get(module)
    if program is not None:
        run.via.append(f"{name} -m {module}")
        if program == ("python",):
            _, script = split_options(rest, frozenset({"-o", "-s", "--output", "--sort"}))
            return (
                python(kit, ("python", *script), run)
                if script
                else shell_exec(f"`{name} -m {module}` with no script")
            )
        return kit.argv((*program, *rest), run)
    if module.split(".", 1)[0] in TOOL_MODULES:
        return shell_exec(f"`{name} -m {module}` runs a developer tool", targets=(module,))
    found = module_purpose(module)
    if found is not None:
        kind, why = found
        return Classification(kind, f"`{name} -m {module}` runs {why}", targets=(module,))
    return Classification(
        Kind.EXPERIMENT_RUN, f"`{name} -m {module}` runs a project module", targets=(module,)
    )


def script_runner(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """Rscript, julia, ipython...: running a script file is an experiment unless named otherwise."""
    name = program_name(argv[0])
    _, rest = split_options(argv[1:], frozenset({"-e", "--eval", "-c"}))
    if not rest:
        return shell_exec(f"runs `{name}`", targets=(name,))
    return run_file(kit, rest[0], run, name)


_JS_SUBCOMMANDS = word_set("run x exec")
_JS_SCRIPTS = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx", ".jsx")


def js_runner(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """node, bun, deno, tsx, ts-node: `bun scripts/publish.ts` runs a script named for what it
    does, as `python x.py` does; anything else (`bun install`, a REPL) is a plain command."""
    name = program_name(argv[0])
    if name in ("node", "nodejs"):
        code, _ = inline_code.code_of("node", argv)
        if code:
            return inline_code.analyse(kit, "node", code, run, f"`{name} -e`")
    _, rest = split_options(argv[1:], frozenset({"-e", "--eval", "-r", "--require", "--import"}))
    if rest and rest[0] in _JS_SUBCOMMANDS and name in ("bun", "deno"):
        rest = rest[1:]
    if rest and rest[0].lower().endswith(_JS_SCRIPTS):
        return run_file(kit, rest[0], run, name)
    return shell_exec(f"runs `{' '.join([name, *rest[:1]])}`", targets=(name,))


_SBATCH_VALUE = word_set(
    """
    -A --account -a --array -b --begin -c --cpus-per-task -C --constraint -D --chdir -d
    --dependency -e --error -G --gpus -i --input -J --job-name -L --licenses -M --clusters -m
    --distribution -N --nodes -n --ntasks -o --output -p --partition -q --qos -t --time -w
    --nodelist -x --exclude --gres --mem --mem-per-cpu --mem-per-gpu --ntasks-per-node
    --gpus-per-node --gpus-per-task --cpus-per-gpu --wrap --export --mail-type --mail-user
    --reservation --signal --comment -W
    """
)


def env_settings(kit: Toolkit, text: str, run: Run, label: str) -> None:
    """Flag oversight variables set through a job's environment option (`--export=A=1,B=2`)."""
    for name in _ENV_SETTING.findall(text):
        if kit.env_tampers(name):
            run.side.append(tamper(f"{label} sets {name}, one of oversight's settings", [name]))


def sbatch(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    name = program_name(argv[0])
    options, rest = split_options(argv[1:], _SBATCH_VALUE)
    for exported in values(options, "--export"):
        env_settings(kit, exported, run, f"`{name} --export`")
    wrapped = value(options, "--wrap")
    if wrapped is not None:
        inner = kit.script(wrapped, run)
        return as_job(f"`{name}`", inner, "its `--wrap` command")
    if rest:
        kind, why = kit.script_kind(rest[0])
        return as_job(f"`{name}`", Classification(kind, why, targets=(rest[0],)), f"`{rest[0]}`")
    if run.command.stdin is not None:
        inner = kit.script(run.command.stdin, run)
        return as_job(f"`{name}`", inner, "a here-document job script")
    return as_job(
        f"`{name}`",
        Classification(Kind.TRAIN_LAUNCH, "job script from stdin", frozenset({"unresolved"})),
        "a job script it reads from stdin",
    )


def bsub(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """LSF: every option takes a value except a few; the rest is the job's command."""
    args = list(argv[1:])
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 1 if args[i] in ("-I", "-Is", "-Ip", "-K", "-x", "-B", "-N", "-r") else 2
    if i >= len(args):
        return as_job("`bsub`", Classification(Kind.TRAIN_LAUNCH, "no command"), "stdin")
    inner = kit.argv(tuple(args[i:]), run)
    return as_job("`bsub`", inner, f"`{' '.join(args[i : i + 2])}`")


def qsub(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    script = positionals(
        argv[1:],
        word_set("-N -q -l -o -e -A -v -W -J -P -pe"),
    )
    if not script:
        return as_job("`qsub`", Classification(Kind.TRAIN_LAUNCH, "no script"), "stdin")
    kind, why = kit.script_kind(script[0])
    return as_job("`qsub`", Classification(kind, why, targets=(script[0],)), f"`{script[0]}`")


_RAY_VALUE = word_set(
    """
    --address --working-dir --runtime-env --runtime-env-json --submission-id --job-id
    --entrypoint-num-cpus --entrypoint-num-gpus --entrypoint-memory --entrypoint-resources
    --metadata-json --log-style --log-color -v
    """
)


def ray(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:3])
    if words[:2] == ["job", "submit"]:
        args = list(argv[3:])
        for text in values(split_options(args, _RAY_VALUE)[0], "--runtime-env-json"):
            env_settings(kit, text, run, "`ray job submit --runtime-env-json`")
        if "--" in args:
            command = args[args.index("--") + 1 :]
        else:
            _, command = split_options(args, _RAY_VALUE)
        if not command:
            return as_job(
                "`ray job submit`",
                Classification(Kind.TRAIN_LAUNCH, "no entrypoint"),
                "no entrypoint",
            )
        inner = kit.argv(tuple(command), run)
        return as_job("`ray job submit`", inner, f"`{' '.join(command[:2])}`")
    if words[:1] in (["submit"], ["exec"]):
        rest = positionals(argv[2:], frozenset({"--cluster-name", "-n", "--port-forward"}))
        if len(rest) >= 2:
            inner = (
                kit.script(" ".join(rest[1:]), run)
                if words[0] == "exec"
                else Classification(*kit.script_kind(rest[1]), targets=(rest[1],))
            )
            return as_job(f"`ray {words[0]}`", inner, f"`{rest[1]}`")
    return shell_exec(f"runs `ray {' '.join(words)}`", "network", targets=("ray",))


_SKY_VALUE = word_set(
    """
    -c --cluster --gpus --cloud --env --env-file -n --name --num-nodes --workdir --infra --region
    --zone --memory --cpus --disk-size -i --idle-minutes-to-autostop --secret --image-id -t
    --instance-type --disk-tier --ports --async --config
    """
)


def sky(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    args = list(argv[1:])
    sub = args[:2] if args[:1] in (["jobs"], ["serve"]) else args[:1]
    rest = args[len(sub) :]
    label = f"`sky {' '.join(sub)}`"
    run.flags.add("network")
    for env_value in values(split_options(rest, _SKY_VALUE)[0], "--env"):
        env_settings(kit, env_value, run, f"{label} --env")
    if sub in (["serve", "up"], ["serve", "update"]):
        return Classification(
            Kind.DEPLOY,
            f"{label} serves a model publicly",
            frozenset({"publish", "network"}),
            ("sky",),
        )
    if sub in (["launch"], ["jobs", "launch"], ["exec"], ["spot", "launch"]):
        words = positionals(rest, _SKY_VALUE)
        if sub == ["exec"] and words:
            words = words[1:]
        if words and words[0].lower().endswith((".yaml", ".yml")):
            kind, why = kit.script_kind(words[0])
            return as_job(label, Classification(kind, why, targets=(words[0],)), f"`{words[0]}`")
        if words:
            return as_job(label, kit.script(" ".join(words), run), f"`{' '.join(words)}`")
        return as_job(label, Classification(Kind.TRAIN_LAUNCH, "no task"), "no task file visible")
    return shell_exec(f"runs {label}", "network", targets=("sky",))


_TUNE_VALUE = word_set(
    """
    --nproc_per_node --nproc-per-node --nnodes --rdzv_backend --rdzv-backend --rdzv_endpoint
    --rdzv-endpoint --rdzv_id --master_addr --master_port --node_rank --max_restarts --log_dir
    --config -r -t
    """
)


def tune(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """torchtune: `tune run <recipe>`; eval and generation recipes are not training."""
    if len(argv) < 2 or argv[1] != "run":
        network = ("network",) if argv[1:2] == ("download",) else ()
        return shell_exec(f"runs `tune {' '.join(argv[1:2])}`", *network, targets=("tune",))
    words = positionals(argv[2:], _TUNE_VALUE)
    recipe = words[0] if words else ""
    recipe_words = split_words(recipe)
    if any(w in ("eval", "evaluation") for w in recipe_words):
        return Classification(
            Kind.EVAL_RUN, f"`tune run {recipe}` is an evaluation recipe", targets=(recipe,)
        )
    if any(w in ("generate", "generation", "inference", "quantize") for w in recipe_words):
        return Classification(
            Kind.EXPERIMENT_RUN,
            f"`tune run {recipe}` runs a non-training recipe",
            targets=(recipe,),
        )
    return Classification(
        Kind.TRAIN_LAUNCH,
        f"`tune run {recipe}` launches a training recipe",
        targets=("tune", recipe),
    )


def subcommands(
    name: str,
    train: frozenset[str],
    evaluate: frozenset[str] = frozenset(),
    model: frozenset[str] = frozenset(),
    default: Kind = Kind.EXPERIMENT_RUN,
) -> Rule:
    """Trainer CLIs (axolotl, llamafactory-cli, litgpt, trl): the subcommand decides."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        words = positionals(argv[1:2])
        sub = words[0] if words else ""
        label = f"`{name} {sub}`".replace(" `", "`")
        if sub in train:
            return Classification(Kind.TRAIN_LAUNCH, f"{label} launches training", targets=(name,))
        if sub in evaluate:
            return Classification(Kind.EVAL_RUN, f"{label} runs an evaluation", targets=(name,))
        if sub in model:
            return Classification(Kind.MODEL_CALL, f"{label} queries a model", targets=(name,))
        if sub in ("", "help", "version", "env", "download", "fetch", "ls", "list"):
            network = ("network",) if sub in ("download", "fetch") else ()
            return shell_exec(f"runs {label}", *network, targets=(name,))
        return Classification(default, f"{label} runs a {default.value} step", targets=(name,))

    return rule


def eval_cli(subs: frozenset[str] | None = None) -> Rule:
    """lm_eval, `inspect eval`, helm-run...: evaluation harnesses."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        name = program_name(argv[0])
        if subs is not None:
            sub = argv[1] if len(argv) > 1 else ""
            if sub not in subs:
                return shell_exec(f"runs `{name} {sub}`".rstrip(), targets=(name,))
            name = f"{name} {sub}"
        return Classification(
            Kind.EVAL_RUN, f"`{name}` runs an evaluation harness", targets=(name,)
        )

    return rule


def experiment_cli(subs: frozenset[str] | None = None, network: bool = False) -> Rule:
    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        name = program_name(argv[0])
        flags = frozenset({"network"}) if network else frozenset()
        if subs is not None:
            sub = " ".join(positionals(argv[1:3]))
            matched = next((s for s in subs if sub == s or sub.startswith(s + " ")), None)
            if matched is None:
                return Classification(
                    Kind.SHELL_EXEC, f"runs `{name} {sub}`".rstrip(), flags, (name,)
                )
            name = f"{name} {matched}"
        return Classification(Kind.EXPERIMENT_RUN, f"`{name}` runs an experiment", flags, (name,))

    return rule


def jupyter(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    sub = argv[1] if len(argv) > 1 else ""
    if sub == "execute" or (
        sub == "nbconvert"
        and ("--execute" in argv or "--to=notebook" in argv and "--execute" in argv)
    ):
        notebooks = [a for a in argv[2:] if a.endswith(".ipynb")]
        return Classification(
            Kind.EXPERIMENT_RUN, f"`jupyter {sub}` executes a notebook", targets=tuple(notebooks)
        )
    if sub in ("notebook", "lab", "server"):
        return shell_exec(f"starts a `jupyter {sub}` server", targets=("jupyter",))
    return shell_exec(f"runs `jupyter {sub}`".rstrip(), targets=("jupyter",))


def wandb(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:3])
    if words[:1] in (["sweep"], ["agent"]):
        return Classification(
            Kind.EXPERIMENT_RUN,
            f"`wandb {words[0]}` runs a sweep",
            frozenset({"network"}),
            ("wandb",),
        )
    if words[:2] == ["artifact", "put"]:
        return Classification(
            Kind.DEPLOY,
            "`wandb artifact put` uploads an artifact for others to use",
            frozenset({"publish", "network"}),
            ("wandb",),
        )
    return shell_exec(f"runs `wandb {' '.join(words)}`".rstrip(), "network", targets=("wandb",))


def make(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    name = program_name(argv[0])
    options, _ = split_options(argv[1:], frozenset())
    targets = [
        t
        for t in positionals(
            argv[1:],
            word_set("-C --directory -f --file -j --jobs -l -o -W -I"),
        )
        if "=" not in t
    ]
    if has(options, "-n", "--dry-run", "--just-print", "-q", "--question"):
        return shell_exec(f"`{name} -n` only prints what would run", targets=(name,))
    if not targets:
        return shell_exec(f"runs the default `{name}` target", targets=(name,))
    best: Classification | None = None
    for target in targets:
        words = split_words(target)
        found = purpose(words)
        if found is not None:
            kind, word = found
            candidate = Classification(
                kind, f"`{name} {target}` runs a target named for `{word}`", targets=(name, target)
            )
        elif any(w in EXPERIMENT_WORDS or w == "run" for w in words):
            candidate = Classification(
                Kind.EXPERIMENT_RUN,
                f"`{name} {target}` runs an experiment target",
                targets=(name, target),
            )
        else:
            candidate = shell_exec(f"runs `{name} {target}`", targets=(name, target))
        if best is None or RANK[candidate.kind] > RANK[best.kind]:
            best = candidate
    assert best is not None
    return best


def modal(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:])
    sub = words[0] if words else ""
    if sub == "deploy":
        return Classification(
            Kind.DEPLOY,
            "`modal deploy` publishes an app",
            frozenset({"publish", "network"}),
            ("modal",),
        )
    if sub in ("run", "serve") and len(words) > 1:
        target = words[1].split("::", 1)[0]
        kind, why = kit.script_kind(target)
        if sub == "serve" and kind is Kind.EXPERIMENT_RUN:
            why = "an app served while the command runs"
        return Classification(
            kind, f"`modal {sub} {target}` runs {why} on Modal", frozenset({"network"}), (target,)
        )
    return shell_exec(f"runs `modal {sub}`".rstrip(), "network", targets=("modal",))


def accelerate(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    if argv[1:2] == ("launch",):
        return launcher("accelerate launch", skip=2)(kit, argv, run)
    return shell_exec(f"runs `accelerate {' '.join(argv[1:2])}`".rstrip(), targets=("accelerate",))


def lightning(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    if argv[1:2] == ("run",):
        return launcher("lightning run", skip=3)(kit, argv, run)
    return shell_exec("runs `lightning`", targets=("lightning",))


def cloud_training(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """Managed training APIs: `gcloud ai custom-jobs create`, `aws sagemaker create-training-job`..."""
    return Classification(
        Kind.TRAIN_LAUNCH,
        f"`{' '.join(positionals(argv[:4]))}` launches a managed training job",
        frozenset({"network"}),
        (program_name(argv[0]),),
    )


def openai_cli(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:3])
    resource = words[1] if len(words) > 1 else ""
    if "fine" in resource:
        if resource.endswith("create"):
            return Classification(
                Kind.TRAIN_LAUNCH,
                f"`openai api {resource}` starts a fine-tuning job",
                frozenset({"network"}),
                ("openai",),
            )
        return shell_exec(
            f"`openai api {resource}` manages fine-tuning jobs", "network", targets=("openai",)
        )
    return Classification(
        Kind.MODEL_CALL,
        f"`openai {' '.join(words)}` calls a model API",
        frozenset({"network"}),
        ("openai",),
    )


def model_cli(subs: frozenset[str] | None = None) -> Rule:
    """ollama run, llm, claude -p...: asking a model, not running code."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        name = program_name(argv[0])
        sub = argv[1] if len(argv) > 1 else ""
        if subs is not None and sub not in subs:
            network = ("network",) if sub in ("pull", "install", "push") else ()
            return shell_exec(f"runs `{name} {sub}`".rstrip(), *network, targets=(name,))
        return Classification(Kind.MODEL_CALL, f"`{name}` queries a model", targets=(name,))

    return rule


RULES: dict[str, Rule] = {
    "python": python,
    "ipython": python,
    "Rscript": script_runner,
    "node": js_runner,
    "nodejs": js_runner,
    "ruby": inline_code.ruby,
    "awk": inline_code.awk,
    "gawk": inline_code.awk,
    "mawk": inline_code.awk,
    "bun": js_runner,
    "deno": js_runner,
    "tsx": js_runner,
    "ts-node": js_runner,
    "julia": script_runner,
    "torchrun": launcher("torchrun"),
    "deepspeed": launcher("deepspeed"),
    "composer": launcher("composer"),
    "accelerate": accelerate,
    "lightning": lightning,
    "mpirun": mpi,
    "mpiexec": mpi,
    "horovodrun": mpi,
    "sbatch": sbatch,
    "bsub": bsub,
    "qsub": qsub,
    "ray": ray,
    "sky": sky,
    "tune": tune,
    "axolotl": subcommands("axolotl", frozenset({"train"}), frozenset({"evaluate", "lm-eval"})),
    "llamafactory-cli": subcommands(
        "llamafactory-cli", frozenset({"train"}), frozenset({"eval"}), frozenset({"chat"})
    ),
    "litgpt": subcommands(
        "litgpt",
        frozenset(
            {
                "finetune",
                "finetune_lora",
                "finetune_full",
                "finetune_adapter",
                "finetune_adapter_v2",
                "pretrain",
            }
        ),
        frozenset({"evaluate"}),
        frozenset({"chat", "generate"}),
    ),
    "trl": subcommands(
        "trl",
        word_set("sft dpo grpo kto orpo ppo reward rloo"),
        model=frozenset({"chat"}),
    ),
    "autotrain": subcommands(
        "autotrain",
        word_set(
            """
            llm text-classification image-classification seq2seq dreambooth tabular
            token-classification vlm sentence-transformers extractive-qa
            """
        ),
        default=Kind.SHELL_EXEC,
    ),
    "lm_eval": eval_cli(),
    "lm-eval": eval_cli(),
    "inspect": eval_cli(frozenset({"eval", "eval-set", "eval-retry"})),
    "helm-run": eval_cli(),
    "helm-summarize": eval_cli(),
    "lighteval": eval_cli(),
    "opencompass": eval_cli(),
    "alpaca_eval": eval_cli(),
    "oaieval": eval_cli(),
    "oaievalset": eval_cli(),
    "mteb": eval_cli(),
    "evalplus.evaluate": eval_cli(),
    "bigcodebench.evaluate": eval_cli(),
    "promptfoo": eval_cli(frozenset({"eval"})),
    "deepeval": eval_cli(frozenset({"test"})),
    "wandb": wandb,
    "jupyter": jupyter,
    "papermill": experiment_cli(),
    "snakemake": experiment_cli(),
    "nextflow": experiment_cli(frozenset({"run"})),
    "guild": experiment_cli(frozenset({"run"})),
    "make": make,
    "just": make,
    "modal": modal,
    "ollama": model_cli(frozenset({"run"})),
    "llm": model_cli(),
    "claude": model_cli(),
    "gemini": model_cli(),
    "aichat": model_cli(),
    "sgpt": model_cli(),
    "openai": openai_cli,
}
