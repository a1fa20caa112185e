"""Commands that run other commands later or elsewhere: `at`, `batch`, `crontab`,
`systemd-run` and Run:ai. What they will run is what they are: a training script scheduled for
tonight is a training launch now, and an entry put in the crontab runs again and again.
"""

from __future__ import annotations

from oversight.classify.argv import Argv, program_name, split_options, word_set
from oversight.classify.launchers import as_job
from oversight.classify.result import Classification
from oversight.classify.shell import printed
from oversight.classify.toolkit import Run, Toolkit
from oversight.classify.wrappers import from_stdin, run_file, shell_exec, then

SCHEDULED = "scheduled"
_CRON_SPECIAL = ("@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                 "@hourly")  # fmt: skip


def at_job(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`at TIME` and `batch` read the job's commands from stdin, or from `-f FILE`."""
    name = program_name(argv[0])
    options, _ = split_options(argv[1:], word_set("-f -q -t -m -M"))
    if any(flag in ("-l", "-c", "-r", "-d") for flag, _ in options):
        return shell_exec(f"`{name}` lists or removes scheduled jobs", targets=(name,))
    job_file = next((v for flag, v in options if flag == "-f" and v), None)
    inner = run_file(kit, job_file, run, name) if job_file else from_stdin(kit, run, name, "shell")
    return _scheduled(inner, f"`{name}` schedules")


def crontab(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`crontab FILE` or `crontab -` installs a table whose commands run on a schedule."""
    args = [a for a in argv[1:] if a not in ("-u",)]
    if any(a in ("-l", "-r", "-e", "-i") for a in args) and "-" not in args:
        return shell_exec("`crontab` lists, edits or removes the table", targets=("crontab",))
    source = next((a for a in args if not a.startswith("-")), "-")
    if source == "-":
        text = _stdin_text(run)
        if text is None:
            inner = shell_exec(
                "`crontab` installs a table piped from a command",
                "unresolved",
                targets=("crontab",),
            )
            return _scheduled(inner, "`crontab` installs")
    else:
        return _scheduled(run_file(kit, source, run, "crontab"), "`crontab` installs")
    commands = "\n".join(_cron_commands(text))
    inner = kit.script(commands, run) if commands else shell_exec("an empty crontab")
    return _scheduled(inner, "`crontab` installs entries that run")


def systemd_run(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    _, rest = split_options(
        argv[1:],
        word_set(
            """
            -u --unit -p --property --description --slice -E --setenv --uid --gid
            --working-directory -M --machine -H --host --on-active --on-boot --on-startup
            --on-unit-active --on-unit-inactive --on-calendar --timer-property --path-property
            --socket-property --nice --service-type
            """
        ),
    )
    return _scheduled(then(kit, rest, run, "systemd-run", "background"), "`systemd-run` starts")


def runai(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """`runai submit ... -- CMD` (or `runai training submit`): a job on the cluster."""
    args = list(argv[1:])
    if "submit" not in args[:3]:
        return shell_exec("`runai` manages jobs (lists, describes, deletes)", targets=("runai",))
    if "--" in args:
        inner = kit.argv(tuple(args[args.index("--") + 1 :]), run)
        return as_job("`runai submit`", inner, "its command")
    return as_job(
        "`runai submit`",
        shell_exec("a container image's entry point", "unresolved"),
        "an image's entry point",
    )


def _stdin_text(run: Run) -> str | None:
    command = run.command
    if command.stdin is not None:
        return command.stdin
    if run.upstream:
        feeder = run.upstream[-1]
        if feeder.stdin is not None:
            return feeder.stdin
        if feeder.argv and program_name(feeder.argv[0]) in ("echo", "printf"):
            return printed(feeder.argv)
    return None


def _cron_commands(text: str) -> list[str]:
    """The command of each crontab line (after five time fields or an @ schedule)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" in line.split(None, 1)[0]:
            continue
        fields = line.split(None, 1 if line.startswith(_CRON_SPECIAL) else 5)
        if len(fields) == (2 if line.startswith(_CRON_SPECIAL) else 6):
            out.append(fields[-1])
    return out


def _scheduled(inner: Classification, verb: str) -> Classification:
    return Classification(
        inner.kind,
        f"{verb}: {inner.reason}",
        inner.flags | {SCHEDULED},
        inner.targets,
    )


SCHEDULERS = {
    "at": at_job,
    "batch": at_job,
    "crontab": crontab,
    "systemd-run": systemd_run,
    "runai": runai,
}
