"""Python code tools: the code is read as a syntax tree, never run."""

from __future__ import annotations

import pytest

from oversight.classify import Classification, Classifier
from oversight.kinds import Kind

CLASSIFIER = Classifier()


def python(code: str) -> Classification:
    return CLASSIFIER.classify("python", {"code": code})


CASES = {
    "plain-code": ("x = sum(range(10))\nprint(x)", Kind.SHELL_EXEC),
    "subprocess-list": (
        "import subprocess\nsubprocess.run(['torchrun', 'train.py'])",
        Kind.TRAIN_LAUNCH,
    ),
    "subprocess-string": (
        "import subprocess\nsubprocess.run('lm_eval --tasks mmlu', shell=True)",
        Kind.EVAL_RUN,
    ),
    "subprocess-alias": (
        "import subprocess as sp\nsp.check_call(['git', 'push'])",
        Kind.CODE_APPLY,
    ),
    "from-import": (
        "from subprocess import Popen\nPopen(['python', 'finetune.py'])",
        Kind.TRAIN_LAUNCH,
    ),
    "popen-shlex": (
        "import shlex, subprocess\nsubprocess.Popen(shlex.split('deepspeed train.py'))",
        Kind.TRAIN_LAUNCH,
    ),
    "os-system": ("import os\nos.system('huggingface-cli upload me/m out')", Kind.DEPLOY),
    "os-popen": ("import os\nos.popen('ls').read()", Kind.SHELL_EXEC),
    "command-variable": (
        "import subprocess\ncmd = ['python', 'eval.py']\nsubprocess.run(cmd)",
        Kind.EVAL_RUN,
    ),
    "open-write": ("with open('results.json', 'w') as f:\n    f.write('{}')", Kind.FILE_WRITE),
    "open-append-kw": ("open('log.txt', mode='a').write('x')", Kind.FILE_WRITE),
    "open-read": ("print(open('README.md').read())", Kind.SHELL_EXEC),
    "path-write": (
        "from pathlib import Path\nPath('out') / 'a.txt'\nPath('out/a.txt').write_text('x')",
        Kind.FILE_WRITE,
    ),
    "shutil-move": ("import shutil\nshutil.move('a', 'b')", Kind.FILE_WRITE),
    "os-remove": ("import os\nos.remove('tmp.txt')", Kind.FILE_WRITE),
    "push-to-hub": ("model.push_to_hub('me/llama-ft')", Kind.DEPLOY),
    "hf-upload-folder": (
        "from huggingface_hub import HfApi\nHfApi().upload_folder(folder_path='out', repo_id='me/m')",
        Kind.DEPLOY,
    ),
    "trainer-train": (
        "from transformers import Trainer\ntrainer = Trainer(model=model, args=args)\ntrainer.train()",
        Kind.TRAIN_LAUNCH,
    ),
    "trainer-inline": (
        "from trl import SFTTrainer\nSFTTrainer(model=m, train_dataset=d).train()",
        Kind.TRAIN_LAUNCH,
    ),
    "lightning-fit": (
        "import lightning as L\nL.Trainer(max_epochs=1).fit(model, dl)",
        Kind.TRAIN_LAUNCH,
    ),
    "keras-fit": ("model.fit(x, y, epochs=5)", Kind.TRAIN_LAUNCH),
    "training-loop": (
        "for batch in loader:\n    loss = model(batch)\n    loss.backward()\n    optimizer.step()",
        Kind.TRAIN_LAUNCH,
    ),
    "trainer-evaluate": ("metrics = trainer.evaluate()", Kind.EVAL_RUN),
    "lm-eval-api": (
        "import lm_eval\nlm_eval.simple_evaluate(model='hf', tasks=['mmlu'])",
        Kind.EVAL_RUN,
    ),
    "inspect-eval": (
        "from inspect_ai import eval\neval('task.py', model='openai/gpt-4o')",
        Kind.EVAL_RUN,
    ),
    "model-train-mode": ("model.train()\nmodel.eval()", Kind.SHELL_EXEC),
    "train-test-split": (
        "from sklearn.model_selection import train_test_split\na, b = train_test_split(x)",
        Kind.SHELL_EXEC,
    ),
    "get-train-loader": ("loader = get_train_dataloader(cfg)", Kind.SHELL_EXEC),
    "training-arguments": (
        "from transformers import TrainingArguments\nTrainingArguments(output_dir='o')",
        Kind.SHELL_EXEC,
    ),
    "str-replace-not-a-path": ("s = 'abc'.replace('a', 'b')", Kind.SHELL_EXEC),
    "exec-literal": ("exec(\"import os\\nos.system('git push')\")", Kind.CODE_APPLY),
    "ipython-bang": ("!pip install -q datasets\nimport datasets", Kind.SHELL_EXEC),
    "ipython-run": ("%run train.py --epochs 1", Kind.TRAIN_LAUNCH),
    "ipython-bash-cell": ("%%bash\ncd /repo\npython eval.py", Kind.EVAL_RUN),
    "ipython-assign-bang": ("files = !ls\nprint(files)", Kind.SHELL_EXEC),
    "writefile-magic": ("%%writefile evals/grader.py\nprint(1)", Kind.FILE_WRITE),
}


@pytest.mark.parametrize(("code", "kind"), CASES.values(), ids=CASES.keys())
def test_python_code_kinds(code: str, kind: Kind) -> None:
    assert python(code).kind is kind


@pytest.mark.parametrize(
    "code",
    [
        "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))",
        "eval(compile(src, '<x>', 'exec'))",
        "exec(requests.get(url).text)",
        "__import__('base64')",
        "import importlib\nimportlib.import_module(name)",
        "import marshal\nexec(marshal.loads(blob))",
        "getattr(__builtins__, 'ex' + 'ec')('print(1)')",
        "import codecs\nexec(codecs.decode('cevag(1)', 'rot13'))",
    ],
)
def test_running_hidden_code_is_flagged_obfuscated(code: str) -> None:
    assert "obfuscated" in python(code).flags


def test_exec_of_a_literal_is_read_not_flagged() -> None:
    result = python("exec('x = 1')")
    assert "obfuscated" not in result.flags


def test_syntax_error_is_shell_exec_with_a_reason_and_unresolved_flag() -> None:
    result = python("def broken(:\n    pass")
    assert result.kind is Kind.SHELL_EXEC
    assert "unresolved" in result.flags
    assert "syntax error at line 1" in result.reason


def test_command_built_at_run_time_is_unresolved() -> None:
    result = python("import subprocess\nsubprocess.run(build_command())")
    assert "unresolved" in result.flags


def test_network_libraries_add_the_network_flag() -> None:
    assert "network" in python("import requests\nrequests.get('https://x')").flags


def test_python_reason_says_what_was_found() -> None:
    assert "push_to_hub" in python("model.push_to_hub('me/m')").reason


@pytest.mark.parametrize("key", ["code", "command", "query"])
def test_python_tools_read_their_code_argument(key: str) -> None:
    result = CLASSIFIER.classify("python_repl", {key: "trainer.train()"})
    assert result.kind is Kind.TRAIN_LAUNCH


def test_python_dash_c_in_shell_uses_the_same_analysis() -> None:
    result = CLASSIFIER.classify(
        "Bash", {"command": "python -c 'import os; os.remove(\"evals/a.py\")'"}
    )
    assert result.kind is Kind.FILE_WRITE
    assert "protected_target" in result.flags
