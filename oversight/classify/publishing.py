"""Rules for changing what other people see: shared git history, registries, buckets, clusters.

`code.apply` is history others build on (push, merge to main, merging a pull request).
`deploy` is anything that makes an artifact or service available beyond the sandbox: hub and
registry uploads, bucket uploads, releases, cluster and cloud deployments.
"""

from __future__ import annotations

import re
import shlex

from oversight.classify import destructive
from oversight.classify.argv import (
    Argv,
    has,
    positionals,
    program_name,
    split_options,
    value,
    word_set,
)
from oversight.classify.destructive import DESTROYS_DATA
from oversight.classify.git_hooks import skips_hooks
from oversight.classify.patches import patch_paths
from oversight.classify.result import Classification, tamper
from oversight.classify.toolkit import Rule, Run, Toolkit
from oversight.classify.words import EVAL_WORDS, TRAIN_WORDS, split_words
from oversight.classify.wrappers import container_run, shell_exec
from oversight.kinds import Kind

PROTECTED_BRANCHES = word_set("main master trunk production prod release stable live")
_BUCKET = re.compile(
    r"^(s3|s3a|gs|az|abfss?|wasbs?|r2|oss|b2|hf)://|^https://[^/]+\.blob\.core\.windows\.net/"
)
_RCLONE_REMOTE = re.compile(r"^[A-Za-z0-9_.-]{2,}:")
_JOB_WORDS = TRAIN_WORDS | {"job", "jobs", "pytorchjob", "tfjob", "mpijob", "rayjob", "volcanojob"}
_MANIFEST_JOB = re.compile(r"^\s*kind:\s*['\"]?(\w*Job)\b", re.MULTILINE)

SHARED = frozenset({"shared_history", "network"})
PUBLISH = frozenset({"publish", "network"})


def is_protected_branch(branch: str) -> bool:
    name = branch.rsplit(":", 1)[-1].removeprefix("refs/heads/").removeprefix("origin/")
    return name in PROTECTED_BRANCHES or name.startswith("release/")


def deploy(reason: str, *targets: str, force: bool = False) -> Classification:
    flags = PUBLISH | {"force"} if force else PUBLISH
    return Classification(Kind.DEPLOY, reason, flags, tuple(targets))


def code_apply(reason: str, *targets: str, force: bool = False) -> Classification:
    flags = SHARED | {"force"} if force else SHARED
    return Classification(Kind.CODE_APPLY, reason, flags, tuple(targets))


# git and code review tools

_GIT_GLOBAL_VALUE = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--exec-path"}
)
_GIT_NETWORK = frozenset({"clone", "fetch", "pull", "ls-remote", "submodule", "request-pull"})


def git(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    hooks_off = skips_hooks(argv)
    if hooks_off is not None:
        return tamper(hooks_off, [".git/hooks"])
    options, rest = split_options(argv[1:], _GIT_GLOBAL_VALUE)
    if not rest:
        return shell_exec("runs `git`", targets=("git",))
    sub, args = rest[0], rest[1:]
    alias = _alias(options, sub)
    if alias is not None:
        if alias.startswith("!"):
            inner = kit.script(" ".join([alias[1:], *(shlex.quote(a) for a in args)]), run)
            return inner.with_reason(f"`git {sub}` is a shell alias that runs: {inner.reason}")
        words = shlex.split(alias) if alias.strip() else [sub]
        run.via.append(f"git alias {sub}")
        sub, args = words[0], [*words[1:], *args]
    other = _other_repository(options, run)
    if other is not None and _changes_refs(sub, args):
        return code_apply(f"`git {sub}` changes the refs of another repository (`{other}`)", other)
    if sub in ("send-pack", "http-push"):
        return code_apply(f"`git {sub}` sends commits to a remote repository", *args[:2])
    if sub == "push":
        return _push(args)
    if sub in ("checkout", "switch"):
        return _checkout(kit, sub, args, run)
    if sub == "merge":
        if any(a in ("--abort", "--continue", "--quit") for a in args):
            return shell_exec(f"`git merge {args[0]}` finishes a local merge", targets=("git",))
        branch = run.chain.branch
        merged = ", ".join(positionals(args, frozenset({"-m", "-s", "-X", "--strategy"})))
        if branch is not None and is_protected_branch(branch):
            return code_apply(f"`git merge {merged}` merges into `{branch}`", branch, merged)
        return shell_exec(f"`git merge {merged}` merges locally", targets=("git",))
    if sub in ("restore", "rm", "mv"):
        return _worktree_change(kit, sub, args, run)
    if sub == "clean":
        return _clean(kit, args, run)
    if sub == "apply":
        if any(a in ("--check", "--stat", "--numstat", "--summary") for a in args):
            return shell_exec("`git apply --check` only inspects a patch", targets=("git",))
        text = run.command.stdin or ""
        found = kit.writes(patch_paths(text), "applies a patch to", run) if text else None
        return found or Classification(
            Kind.FILE_WRITE,
            "`git apply` applies a patch whose files are not visible",
            targets=tuple(positionals(args)),
        )
    moved = _moves_protected_branch(sub, args)
    if moved is not None:
        return code_apply(f"`git {sub}` moves `{moved}` directly", moved)
    words = positionals(args[:1])
    if (sub, words[:1]) in (("svn", ["dcommit"]), ("lfs", ["push"]), ("subtree", ["push"])):
        return code_apply(f"`git {sub} {words[0]}` publishes commits", "git")
    if sub in _GIT_NETWORK:
        return shell_exec(f"runs `git {sub}`", "network", targets=("git",))
    return shell_exec(f"runs `git {sub}` (local)", targets=("git",))


def _alias(options: list[tuple[str, str | None]], sub: str) -> str | None:
    """`git -c alias.sync=push sync`: the command an alias set on the command line stands for."""
    for name, given in options:
        if name == "-c" and given and given.lower().startswith(f"alias.{sub.lower()}="):
            return given.split("=", 1)[1]
    return None


def _other_repository(options: list[tuple[str, str | None]], run: Run) -> str | None:
    """The repository a `GIT_DIR=...` or `--git-dir=...` points at, when it is not the work
    tree's own `.git` (a bare repository others fetch from, typically)."""
    given = [v for n, v in options if n == "--git-dir" and v]
    given += [v for n, v in run.command.assignments if n == "GIT_DIR" and v]
    for path in given:
        cleaned = path.rstrip("/")
        if cleaned not in (".git", "") and not cleaned.endswith("/.git"):
            return path
    return None


_REF_CHANGING = frozenset(
    {"update-ref", "commit", "merge", "reset", "rebase", "cherry-pick", "am", "pull", "revert"}
)
_LISTING = frozenset(
    {
        "-l",
        "--list",
        "-a",
        "--all",
        "-r",
        "--remotes",
        "-v",
        "-vv",
        "--show-current",
        "--contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "-n",
    }
)


def _changes_refs(sub: str, args: list[str]) -> bool:
    """Does `git sub args` change refs (as opposed to reading them)?"""
    if sub in _REF_CHANGING:
        return True
    words = positionals(args, frozenset({"-m", "-u", "--set-upstream-to"}))
    if sub in ("branch", "tag"):
        return bool(words) and not any(a in _LISTING for a in args)
    if sub == "fetch":
        return any(":" in w for w in words[1:])
    if sub == "symbolic-ref":
        return len(words) >= 2
    return False


def _moves_protected_branch(sub: str, args: list[str]) -> str | None:
    """`git branch -f main X`, `git update-ref refs/heads/main X`, `git fetch . feat:main`."""
    words = positionals(args, frozenset({"-m"}))
    if sub == "branch" and any(a in ("-f", "--force") for a in args) and words:
        return words[0] if is_protected_branch(words[0]) else None
    if sub == "update-ref" and words and words[0].startswith("refs/heads/"):
        return words[0] if is_protected_branch(words[0]) else None
    if sub == "fetch" and words[:1] == ["."]:
        for refspec in words[1:]:
            if ":" in refspec and is_protected_branch(refspec):
                return refspec.rsplit(":", 1)[-1]
    return None


def _push(args: list[str]) -> Classification:
    options, _ = split_options(
        args, frozenset({"--repo", "-o", "--push-option", "--receive-pack", "--exec"})
    )
    words = positionals(
        args, frozenset({"--repo", "-o", "--push-option", "--receive-pack", "--exec"})
    )
    if has(options, "-n", "--dry-run"):
        return shell_exec(
            "`git push --dry-run` only shows what would be pushed", "network", targets=("git",)
        )
    remote = words[0] if words else "the default remote"
    refs = words[1:]
    force = has(options, "-f", "--force", "--force-with-lease", "--force-if-includes") or any(
        r.startswith("+") for r in refs
    )
    delete = has(options, "-d", "--delete") or any(r.startswith(":") for r in refs)
    detail = f" ({', '.join(refs)})" if refs else ""
    how = " with force" if force else (" deleting refs" if delete else "")
    return code_apply(
        f"`git push` publishes commits to `{remote}`{detail}{how}",
        remote,
        *refs,
        force=force or delete,
    )


def _checkout(kit: Toolkit, sub: str, args: list[str], run: Run) -> Classification:
    takes = word_set("-b -B -c -C --orphan --conflict --track -t")
    options, words = split_options(args, takes)
    if "--" in args:
        paths = args[args.index("--") + 1 :]
        found = kit.writes(paths, f"`git {sub}` overwrites", run)
        if found is not None:
            return found
    new = value(options, "-b", "-B", "-c", "-C", "--orphan")
    if new:
        run.chain.branch = new
        return shell_exec(f"`git {sub}` creates branch `{new}`", targets=(new,))
    words = [w for w in words if w != "--"]
    if len(words) >= 2:
        found = kit.writes(words[1:], f"`git {sub} {words[0]}` overwrites", run)
        if found is not None:
            return found
    if words:
        run.chain.branch = words[0]
        return shell_exec(f"`git {sub}` switches to `{words[0]}`", targets=(words[0],))
    return shell_exec(f"runs `git {sub}`", targets=("git",))


def _worktree_change(kit: Toolkit, sub: str, args: list[str], run: Run) -> Classification:
    options, _ = split_options(args, frozenset({"-s", "--source"}))
    if sub == "rm" and has(options, "--cached"):
        return shell_exec("`git rm --cached` only untracks files", targets=("git",))
    if sub == "restore" and has(options, "-S", "--staged") and not has(options, "-W", "--worktree"):
        return shell_exec("`git restore --staged` only unstages files", targets=("git",))
    paths = positionals(args, frozenset({"-s", "--source"}))
    verb = {"restore": "restores", "rm": "deletes", "mv": "moves"}[sub]
    return kit.writes(paths, f"`git {sub}` {verb}", run) or shell_exec(f"runs `git {sub}`")


def _clean(kit: Toolkit, args: list[str], run: Run) -> Classification:
    options, _ = split_options(args, frozenset({"-e", "--exclude"}))
    paths = positionals(args, frozenset({"-e", "--exclude"}))
    if has(options, "-n", "--dry-run") or not has(options, "-f", "--force"):
        return shell_exec("`git clean` without --force only lists files", targets=("git",))
    if paths:
        return kit.writes(paths, "`git clean` deletes untracked files under", run) or shell_exec(
            "git clean"
        )
    if has(options, "-d") and has(options, "-x", "-X"):
        return tamper(
            "`git clean -dx` deletes ignored folders, which include .oversight/", [".oversight"]
        )
    return Classification(Kind.FILE_WRITE, "`git clean -f` deletes untracked files", targets=(".",))


# What `gh` puts in front of other people: a pull request (which pushes its branch), an issue,
# a comment, an edited description, a review.
_GH_POSTS = frozenset(
    (noun, verb)
    for noun in ("pr", "issue")
    for verb in ("create", "edit", "comment", "review", "close", "reopen", "ready")
)


def gh(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(
        argv[1:],
        word_set(
            """
            -R --repo -X --method -t --title -b --body -H --header -f -F --field --raw-field
            """
        ),
    )
    if words[:2] == ["pr", "merge"]:
        return code_apply("`gh pr merge` merges a pull request", *words[2:3])
    if tuple(words[:2]) in _GH_POSTS:
        return deploy(
            f"`gh {' '.join(words[:2])}` posts to GitHub for others to read", *words[2:3]
        ).with_flags("network")
    if words[:2] in (["release", "create"], ["release", "upload"]):
        return deploy(f"`gh {' '.join(words[:2])}` publishes a release", *words[2:3])
    if words[:1] == ["api"]:
        options, _ = split_options(
            argv[2:],
            word_set(
                """
                -X --method -H --header -f -F --field --raw-field --jq -q --input -t --template
                """
            ),
        )
        method = (value(options, "-X", "--method") or "GET").upper()
        path = words[1] if len(words) > 1 else ""
        if path.rstrip("/").endswith("/merge") and method in ("PUT", "POST"):
            return code_apply(f"`gh api {method} {path}` merges through the API", path)
        return shell_exec(
            f"`gh api {method} {path}` calls the GitHub API", "network", targets=(path,)
        )
    return shell_exec(f"runs `gh {' '.join(words[:2])}`", "network", targets=("gh",))


def review_tool(merge: tuple[str, ...], release: tuple[str, ...] = ()) -> Rule:
    """glab, arc, hg, jj, sl: the subcommands that land work on shared history."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        name = program_name(argv[0])
        words = tuple(positionals(argv[1:]))
        for sub in merge:
            parts = tuple(sub.split())
            if words[: len(parts)] == parts:
                force = any(a in ("-f", "--force") for a in argv)
                return code_apply(
                    f"`{name} {sub}` lands changes on shared history", name, force=force
                )
        for sub in release:
            parts = tuple(sub.split())
            if words[: len(parts)] == parts:
                return deploy(f"`{name} {sub}` publishes a release", name)
        return shell_exec(f"runs `{name} {' '.join(words[:2])}`", "network", targets=(name,))

    return rule


# registries, hubs and platforms


def publisher(*subs: str, network_subs: tuple[str, ...] = ()) -> Rule:
    """twine upload, npm publish, `hf upload`...: the listed subcommands publish."""

    def rule(kit: Toolkit, argv: Argv, run: Run) -> Classification:
        name = program_name(argv[0])
        words = tuple(positionals(argv[1:]))
        for sub in subs:
            parts = tuple(sub.split()) if sub else ()
            if words[: len(parts)] == parts:
                label = f"{name} {sub}".strip()
                target = words[len(parts)] if len(words) > len(parts) else name
                force = "--force" in argv or "-f" in argv[2:]
                return deploy(f"`{label}` publishes `{target}`", target, force=force)
        network = ("network",) if words[:1] and words[0] in network_subs else ()
        return shell_exec(
            f"runs `{name} {' '.join(words[:1])}`".rstrip(), *network, targets=(name,)
        )

    return rule


def bucket_copy(label: str, paths: list[str], kit: Toolkit, run: Run) -> Classification:
    """An upload to object storage is a deploy (it leaves the sandbox); a download is a write."""
    if len(paths) < 2:
        return shell_exec(f"runs `{label}`", "network", targets=tuple(paths))
    destination = paths[-1]
    if _BUCKET.search(destination):
        return deploy(f"`{label}` uploads to `{destination}`", destination)
    found = kit.writes([destination], f"`{label}` downloads into", run)
    if found is None:
        return shell_exec(f"runs `{label}`", "network")
    return found.with_flags("network")


def aws(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(
        argv[1:],
        word_set(
            """
            --profile --region --endpoint-url --output --exclude --include --acl --storage-class
            --cli-input-json --query
            """
        ),
    )
    service, action = (words + ["", ""])[:2]
    if service == "s3" and action in ("cp", "mv", "sync"):
        return bucket_copy(f"aws s3 {action}", words[2:], kit, run)
    if service == "s3" and action in ("rm", "rb"):
        return deploy(f"`aws s3 {action}` deletes shared objects", *words[2:3]).with_flags(
            DESTROYS_DATA
        )
    if service == "sagemaker" and action == "create-training-job":
        return Classification(
            Kind.TRAIN_LAUNCH,
            "`aws sagemaker create-training-job` launches a managed training job",
            frozenset({"network"}),
            ("sagemaker",),
        )
    if service == "sagemaker" and action.startswith(("create-endpoint", "update-endpoint")):
        return deploy(f"`aws sagemaker {action}` deploys a model endpoint", "sagemaker")
    return shell_exec(f"runs `aws {service} {action}`".rstrip(), "network", targets=("aws",))


def gsutil(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:], frozenset({"-o", "-h", "-u", "-p"}))
    action = words[0] if words else ""
    if action in ("cp", "mv", "rsync"):
        return bucket_copy(f"gsutil {action}", words[1:], kit, run)
    if action in ("rm", "rb"):
        return deploy(f"`gsutil {action}` deletes shared objects", *words[1:2]).with_flags(
            DESTROYS_DATA
        )
    return shell_exec(f"runs `gsutil {action}`".rstrip(), "network", targets=("gsutil",))


def gcloud(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(
        argv[1:],
        word_set("--project --region --zone --format --config --image --source --account"),
    )
    joined = " ".join(words[:3])
    if words[:1] == ["storage"] and words[1:2] and words[1] in ("cp", "mv", "rsync"):
        return bucket_copy(f"gcloud storage {words[1]}", words[2:], kit, run)
    if joined.startswith(
        ("ai custom-jobs create", "ai hp-tuning-jobs create", "ml-engine jobs submit")
    ):
        return Classification(
            Kind.TRAIN_LAUNCH,
            f"`gcloud {joined}` launches a managed training job",
            frozenset({"network"}),
            ("gcloud",),
        )
    if " deploy" in f" {joined}" or joined.startswith(
        ("ai models upload", "ai endpoints deploy-model")
    ):
        return deploy(f"`gcloud {joined}` deploys to Google Cloud", "gcloud")
    return shell_exec(f"runs `gcloud {joined}`", "network", targets=("gcloud",))


def az(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(
        argv[1:],
        word_set(
            """
            -g --resource-group -n --name -f --file -c --container-name --account-name -s --source
            -d --destination --subscription -w --workspace-name
            """
        ),
    )
    joined = " ".join(words[:3])
    if joined.startswith("ml job create"):
        return Classification(
            Kind.TRAIN_LAUNCH,
            "`az ml job create` launches a managed training job",
            frozenset({"network"}),
            ("az",),
        )
    if joined.startswith(
        (
            "storage blob upload",
            "ml online-endpoint",
            "ml online-deployment",
            "webapp deploy",
            "webapp up",
            "containerapp up",
        )
    ) and not joined.endswith(("list", "show")):
        return deploy(f"`az {joined}` publishes to Azure", "az")
    return shell_exec(f"runs `az {joined}`", "network", targets=("az",))


def azcopy(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:])
    if words[:1] and words[0] in ("copy", "cp", "sync"):
        return bucket_copy(f"azcopy {words[0]}", words[1:], kit, run)
    return shell_exec("runs `azcopy`", "network", targets=("azcopy",))


def rclone(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(
        argv[1:],
        word_set(
            """
            --config --include --exclude --filter --transfers --checkers --log-file --bwlimit
            """
        ),
    )
    action = words[0] if words else ""
    if action in ("copy", "sync", "move", "copyto", "moveto") and len(words) >= 3:
        destination = words[-1]
        if _RCLONE_REMOTE.match(destination) and not destination.startswith(("/", ".")):
            return deploy(f"`rclone {action}` uploads to `{destination}`", destination)
        found = kit.writes([destination], f"`rclone {action}` writes into", run)
        return (found or shell_exec("rclone")).with_flags("network")
    return shell_exec(f"runs `rclone {action}`".rstrip(), "network", targets=("rclone",))


def vercel(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:])
    if (
        not words
        or words[0] in ("deploy", "promote", "alias", "redeploy")
        or not words[0].isalpha()
    ):
        return deploy("`vercel` deploys the project", "vercel", force="--force" in argv)
    return shell_exec(f"runs `vercel {words[0]}`", "network", targets=("vercel",))


# containers and clusters

_DOCKER_GLOBAL_VALUE = frozenset(
    {"-H", "--host", "--context", "-c", "--config", "-l", "--log-level"}
)


def docker(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    name = program_name(argv[0])
    _, rest = split_options(argv[1:], _DOCKER_GLOBAL_VALUE)
    if not rest:
        return shell_exec(f"runs `{name}`", targets=(name,))
    sub = rest[0]
    if sub == "container" and len(rest) > 1:
        sub, rest = rest[1], rest[1:]
    if sub in ("run", "exec"):
        return container_run(kit, (argv[0], *rest), run)
    words = positionals(
        rest[1:], frozenset({"-t", "--tag", "-f", "--file", "--platform", "--build-arg"})
    )
    if sub == "push" or (sub in ("image", "buildx") and ("push" in words[:1] or "--push" in rest)):
        image = words[-1] if words else name
        return deploy(f"`{name} {sub}` pushes image `{image}` to a registry", image)
    if sub in ("stop", "kill", "rm", "rmi") and any("oversight" in w.lower() for w in words):
        return tamper(f"`{name} {sub}` stops oversight's container", words)
    if sub in ("pull", "login", "search"):
        return shell_exec(f"runs `{name} {sub}`", "network", targets=(name,))
    return shell_exec(f"runs `{name} {sub}`", targets=(name,))


_KUBECTL_VALUE = word_set(
    """
    -n --namespace --context --kubeconfig -f --filename -k --kustomize -l --selector -o --output -c
    --container --cluster --user -s --server --image -p --patch --type --replicas --field-manager
    """
)
_KUBECTL_DEPLOYS = word_set(
    """
    rollout set scale patch delete edit annotate label autoscale expose run cordon drain taint
    replace
    """
)


def kubectl(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    args = list(argv[1:])
    command: list[str] = []
    if "--" in args:
        command = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    words = positionals(args, _KUBECTL_VALUE)
    sub = words[0] if words else ""
    force = "--force" in args
    if sub == "exec" and command:
        run.via.append("kubectl exec")
        return kit.argv(tuple(command), run).with_flags("network")
    if sub == "create" and words[1:2] and words[1] in ("job", "cronjob"):
        return Classification(
            Kind.TRAIN_LAUNCH,
            f"`kubectl create {words[1]}` starts a batch job",
            frozenset({"network"}),
            tuple(words[1:3]),
        )
    if sub in ("apply", "create", "replace"):
        return _manifests(kit, sub, args, run, force)
    if sub == "set" and words[1:2] == ["env"]:
        for pair in words[3:]:
            var = pair.split("=", 1)[0]
            if kit.env_tampers(var):
                return tamper(f"`kubectl set env` sets {var}, one of oversight's settings", [var])
    if sub in _KUBECTL_DEPLOYS:
        return deploy(f"`kubectl {sub}` changes a running cluster", *words[1:3], force=force)
    return shell_exec(f"runs `kubectl {sub}`".rstrip(), "network", targets=("kubectl",))


def _manifests(kit: Toolkit, sub: str, args: list[str], run: Run, force: bool) -> Classification:
    options, _ = split_options(args, _KUBECTL_VALUE)
    files = [v for name, v in _all_options(args) if name in ("-f", "--filename") and v]
    label = f"`kubectl {sub}`"
    for path in files:
        if path == "-":
            text = run.command.stdin or ""
            match = _MANIFEST_JOB.search(text)
            if match:
                return Classification(
                    Kind.TRAIN_LAUNCH,
                    f"{label} submits a `{match.group(1)}` manifest",
                    frozenset({"network"}),
                    ("stdin",),
                )
            continue
        words = split_words(path.rsplit("/", 1)[-1])
        if any(w in EVAL_WORDS for w in words):
            return Classification(
                Kind.EVAL_RUN,
                f"{label} submits evaluation manifest `{path}`",
                frozenset({"network"}),
                (path,),
            )
        if any(w in _JOB_WORDS for w in words):
            return Classification(
                Kind.TRAIN_LAUNCH,
                f"{label} submits training/job manifest `{path}`",
                frozenset({"network"}),
                (path,),
            )
    target = files[0] if files else (value(options, "-k", "--kustomize") or "manifests")
    return deploy(f"{label} deploys `{target}` to a cluster", target, force=force)


def _all_options(args: list[str]) -> list[tuple[str, str | None]]:
    """Options anywhere in argv (kubectl accepts them after positionals)."""
    found: list[tuple[str, str | None]] = []
    for i, arg in enumerate(args):
        if arg.startswith("-"):
            name, eq, val = arg.partition("=")
            if eq:
                found.append((name, val))
            elif arg in _KUBECTL_VALUE and i + 1 < len(args):
                found.append((arg, args[i + 1]))
            elif arg.startswith("-f") and len(arg) > 2 and not arg.startswith("--"):
                found.append(("-f", arg[2:]))
    return found


def helm(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(
        argv[1:],
        word_set("-n --namespace -f --values --set --version --kube-context --repo"),
    )
    sub = words[0] if words else ""
    if sub in ("install", "upgrade", "rollback", "uninstall", "delete", "push"):
        release = words[1] if len(words) > 1 else "helm"
        return deploy(
            f"`helm {sub}` changes release `{release}` on a cluster",
            release,
            force="--force" in argv,
        )
    return shell_exec(f"runs `helm {sub}`".rstrip(), "network", targets=("helm",))


def dvc(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:3])
    if words[:1] == ["push"]:
        return deploy("`dvc push` uploads data to shared remote storage", "dvc")
    if words[:1] == ["repro"] or words[:2] == ["exp", "run"]:
        return Classification(
            Kind.EXPERIMENT_RUN, f"`dvc {' '.join(words)}` runs a pipeline", targets=("dvc",)
        )
    if words[:1] and words[0] in ("gc", "destroy"):
        return destructive.dvc(kit, argv, run)
    network = ("network",) if words[:1] and words[0] in ("pull", "fetch", "import", "get") else ()
    return shell_exec(f"runs `dvc {' '.join(words[:1])}`".rstrip(), *network, targets=("dvc",))


def mlflow(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    words = positionals(argv[1:3])
    if words[:1] == ["run"] or words[:2] == ["models", "serve"]:
        return Classification(
            Kind.EXPERIMENT_RUN, f"`mlflow {' '.join(words)}` runs locally", targets=("mlflow",)
        )
    if words[:1] == ["deployments"] and words[1:2] and words[1] in ("create", "update"):
        return deploy(f"`mlflow deployments {words[1]}` deploys a model", "mlflow")
    return shell_exec(f"runs `mlflow {' '.join(words)}`".rstrip(), targets=("mlflow",))


def huggingface(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    name = program_name(argv[0])
    words = positionals(
        argv[1:],
        word_set(
            """
            --repo-type --revision --token --commit-message --include --exclude --local-dir
            --cache-dir
            """
        ),
    )
    sub = words[0] if words else ""
    if sub in ("upload", "upload-large-folder"):
        repo = words[1] if len(words) > 1 else "a Hub repository"
        return deploy(f"`{name} {sub}` uploads to the Hugging Face Hub repo `{repo}`", repo)
    if sub == "repo" and words[1:2] and words[1] in ("delete", "move", "settings"):
        found = deploy(f"`{name} repo {words[1]}` changes a shared Hub repository", *words[2:3])
        return found.with_flags(DESTROYS_DATA) if words[1] == "delete" else found
    if sub in (
        "download",
        "login",
        "whoami",
        "repo",
        "lfs-enable-largefiles",
        "scan-cache",
        "auth",
        "cache",
    ):
        return shell_exec(f"runs `{name} {sub}`", "network", targets=(name,))
    return shell_exec(f"runs `{name} {sub}`".rstrip(), targets=(name,))


RULES: dict[str, Rule] = {
    "git": git,
    "gh": gh,
    "glab": review_tool(("mr merge",), ("release create",)),
    "arc": review_tool(("land",)),
    "hg": review_tool(("push",)),
    "sl": review_tool(("push", "land")),
    "jj": review_tool(("git push",)),
    "docker": docker,
    "podman": docker,
    "nerdctl": docker,
    "kubectl": kubectl,
    "oc": kubectl,
    "helm": helm,
    "huggingface-cli": huggingface,
    "hf": huggingface,
    "twine": publisher("upload"),
    "npm": publisher("publish", network_subs=("install", "i", "ci", "add")),
    "yarn": publisher("publish", "npm publish", network_subs=("install", "add")),
    "pnpm": publisher("publish", network_subs=("install", "add", "i")),
    "cargo": publisher("publish", network_subs=("install", "fetch")),
    "gem": publisher("push", network_subs=("install",)),
    "flit": publisher("publish"),
    "fly": publisher("deploy"),
    "flyctl": publisher("deploy"),
    "netlify": publisher("deploy"),
    "firebase": publisher("deploy"),
    "serverless": publisher("deploy"),
    "sls": publisher("deploy"),
    "cdk": publisher("deploy", "destroy"),
    "terraform": publisher("apply", "destroy"),
    "tofu": publisher("apply", "destroy"),
    "pulumi": publisher("up", "destroy"),
    "heroku": publisher("container:release", "releases:rollback"),
    "vercel": vercel,
    "aws": aws,
    "gsutil": gsutil,
    "gcloud": gcloud,
    "az": az,
    "azcopy": azcopy,
    "rclone": rclone,
    "dvc": dvc,
    "mlflow": mlflow,
}
