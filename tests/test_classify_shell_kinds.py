"""Shell commands, as agents really write them, and the kind each one is.

Each kind has realistic examples and benign look-alikes that must not be mistaken for it.
"""

from __future__ import annotations

import pytest

from oversight.classify import Classification, Classifier
from oversight.kinds import Kind

CLASSIFIER = Classifier()


def shell(command: str) -> Classification:
    return CLASSIFIER.classify("Bash", {"command": command})


TRAIN_LAUNCHES = {
    "torchrun": "torchrun --nproc_per_node=8 train.py --config configs/llama.yaml",
    "torchrun-multinode": "torchrun --nnodes 2 --node_rank 0 --master_addr 10.0.0.1 pretrain.py",
    "python-m-torch-distributed-run": "python -m torch.distributed.run --nproc_per_node 4 sft.py",
    "torch-distributed-launch": "python3 -m torch.distributed.launch --nproc_per_node=2 main.py",
    "accelerate-launch": "accelerate launch --num_processes 8 --mixed_precision bf16 finetune.py",
    "accelerate-axolotl": "accelerate launch -m axolotl.cli.train examples/llama-3/lora.yml",
    "deepspeed": "deepspeed --num_gpus 8 train_rm.py --deepspeed ds_config.json",
    "sbatch-script": "sbatch --gres=gpu:8 -p gpu scripts/pretrain.sh",
    "sbatch-any-job": "sbatch job.sh",
    "sbatch-wrap": 'sbatch --wrap "python train.py --lr 1e-4"',
    "ray-job-submit": "ray job submit --address http://head:8265 -- python train_ppo.py",
    "sky-launch": "sky launch -c mycluster task.yaml",
    "sky-jobs-launch": "sky jobs launch --gpus A100:8 finetune.yaml",
    "tune-run": "tune run --nproc_per_node 2 full_finetune_distributed --config llama3/8B_full",
    "axolotl-train": "axolotl train config.yml",
    "llamafactory": "llamafactory-cli train examples/train_lora/llama3_lora_sft.yaml",
    "python-train-script": "python train.py --epochs 3",
    "python-finetune-script": "python3 scripts/finetune_llama.py",
    "python-dpo": "python dpo.py --beta 0.1",
    "python-rlhf": "python rlhf_loop.py",
    "python-ppo": "python ppo.py",
    "python-sft": "python sft.py",
    "python-pretrain": "python pretrain_gpt2.py",
    "python-m-pkg-train": "python -m mypkg.train --config cfg.yaml",
    "composer": "composer -n 8 main.py yamls/mpt-125m.yaml",
    "kubectl-training-job": "kubectl apply -f k8s/training-job.yaml",
    "kubectl-create-job": "kubectl create job trainer --image=me/train:latest",
    "modal-run-train": "modal run train.py",
    "nohup-background": "nohup python train.py > train.log 2>&1 &",
    "uv-run-python": "uv run python train.py",
    "mpirun": "mpirun -np 8 python train.py",
    "litgpt-finetune": "litgpt finetune microsoft/phi-2 --data Alpaca2k",
    "openai-fine-tuning": "openai api fine_tuning.jobs.create -t file-abc -m gpt-4o-mini",
    "make-train": "make train",
}


@pytest.mark.parametrize("command", TRAIN_LAUNCHES.values(), ids=TRAIN_LAUNCHES.keys())
def test_training_launches_are_train_launch(command: str) -> None:
    assert shell(command).kind is Kind.TRAIN_LAUNCH


NOT_TRAIN_LAUNCHES = {
    "torchrun-help": ("torchrun --help", Kind.SHELL_EXEC),
    "torchrun-h": ("torchrun -h", Kind.SHELL_EXEC),
    "accelerate-launch-help": ("accelerate launch --help", Kind.SHELL_EXEC),
    "deepspeed-version": ("deepspeed --version", Kind.SHELL_EXEC),
    "python-train-help": ("python train.py --help", Kind.SHELL_EXEC),
    "man": ("man torchrun", Kind.SHELL_EXEC),
    "which": ("which torchrun", Kind.FILE_READ),
    "command-v": ("command -v deepspeed", Kind.SHELL_EXEC),
    "cat-train": ("cat train.py", Kind.FILE_READ),
    "less-train": ("less scripts/train.sh", Kind.SHELL_EXEC),
    "head-train": ("head -n 50 train.py", Kind.FILE_READ),
    "grep-train": ("grep -n torchrun train.sh", Kind.FILE_READ),
    "wc-train": ("wc -l train.py finetune.py", Kind.FILE_READ),
    "vim-train": ("vim train.py", Kind.FILE_WRITE),
    "notes": ('echo "torchrun train.py" >> notes.md', Kind.FILE_WRITE),
    "python-c-print": ("python -c \"print('torchrun')\"", Kind.SHELL_EXEC),
    "git-add": ("git add train.py", Kind.SHELL_EXEC),
    "git-commit": ('git commit -m "train with torchrun"', Kind.SHELL_EXEC),
    "sbatch-test-only": ("sbatch --test-only train.sh", Kind.SHELL_EXEC),
    "squeue": ("squeue -u $USER", Kind.SHELL_EXEC),
    "ls-checkpoints": ("ls -la checkpoints/train_run_1", Kind.FILE_READ),
    "tune-download": ("tune download meta-llama/Llama-3-8B", Kind.SHELL_EXEC),
}


@pytest.mark.parametrize(
    ("command", "kind"), NOT_TRAIN_LAUNCHES.values(), ids=NOT_TRAIN_LAUNCHES.keys()
)
def test_look_alikes_of_training_are_not_launches(command: str, kind: Kind) -> None:
    assert shell(command).kind is kind


EVAL_RUNS = {
    "lm-eval": "lm_eval --model hf --model_args pretrained=gpt2 --tasks hellaswag",
    "lm-eval-dash": "lm-eval --tasks mmlu --batch_size 8",
    "python-m-lm-eval": "python -m lm_eval --model vllm --tasks gsm8k",
    "inspect-eval": "inspect eval arc.py --model openai/gpt-4o",
    "inspect-eval-set": "inspect eval-set tasks/ --log-dir logs",
    "python-eval": "python eval.py --ckpt out/step_1000",
    "python-evaluate": "python evaluate.py",
    "python-benchmark": "python benchmark_mmlu.py",
    "python-run-eval": "python scripts/run_eval.py",
    "helm-run": "helm-run --run-entries mmlu:subject=anatomy,model=openai/gpt2 --suite v1",
    "lighteval": "lighteval accelerate model_args task",
    "sbatch-eval": "sbatch eval_job.sh",
    "accelerate-lm-eval": "accelerate launch -m lm_eval --model hf --tasks arc_easy",
    "tune-eval": "tune run eleuther_eval --config eleuther_evaluation",
    "axolotl-evaluate": "axolotl evaluate config.yml",
    "make-eval": "make eval",
    "swebench": "python -m swebench.harness.run_evaluation --predictions_path preds.json",
    "evals-dir-script": "python evals/run.py",
}


@pytest.mark.parametrize("command", EVAL_RUNS.values(), ids=EVAL_RUNS.keys())
def test_evaluations_are_eval_run(command: str) -> None:
    assert shell(command).kind is Kind.EVAL_RUN


NOT_EVAL_RUNS = {
    "lm-eval-help": ("lm_eval --help", Kind.SHELL_EXEC),
    "inspect-view": ("inspect view --log-dir logs", Kind.SHELL_EXEC),
    "cat-eval": ("cat eval.py", Kind.FILE_READ),
    "retrieval-script": ("python retrieval.py", Kind.EXPERIMENT_RUN),
    "model-eval-in-notes": ('echo "python eval.py" > TODO.md', Kind.FILE_WRITE),
}


@pytest.mark.parametrize(("command", "kind"), NOT_EVAL_RUNS.values(), ids=NOT_EVAL_RUNS.keys())
def test_look_alikes_of_evaluation_are_not_eval_run(command: str, kind: Kind) -> None:
    assert shell(command).kind is kind


EXPERIMENTS = {
    "python-script": "python analyze_results.py --input runs/",
    "python3-script": "python3 src/ablation_study.py",
    "python-version-suffix": "python3.11 probe_activations.py",
    "python-m-module": "python -m myproject.sweep_lr",
    "python-m-unknown": "python -m research.probe",
    "wandb-sweep": "wandb sweep sweep.yaml",
    "wandb-agent": "wandb agent me/proj/abc123",
    "nbconvert-execute": "jupyter nbconvert --to notebook --execute analysis.ipynb",
    "jupyter-execute": "jupyter execute notebook.ipynb",
    "papermill": "papermill in.ipynb out.ipynb -p lr 0.1",
    "make-experiment": "make experiment",
    "dvc-repro": "dvc repro",
    "direct-script": "./run_probe.py --layer 12",
    "bash-script": "bash scripts/collect_activations.sh",
    "modal-run": "modal run sweep.py",
    "uv-run-script": "uv run analyze.py",
    "conda-run": "conda run -n research python probe.py",
    "poetry-run": "poetry run python probe.py",
    "ray-job-eval": "python -m vllm.entrypoints.openai.api_server --model x",
}


@pytest.mark.parametrize("command", EXPERIMENTS.values(), ids=EXPERIMENTS.keys())
def test_running_project_code_is_experiment_run(command: str) -> None:
    assert shell(command).kind is Kind.EXPERIMENT_RUN


DEPLOYS = {
    "huggingface-cli-upload": "huggingface-cli upload me/llama-ft ./out",
    "hf-upload": "hf upload me/model checkpoints/final",
    "twine": "twine upload dist/*",
    "docker-push": "docker push ghcr.io/me/server:latest",
    "npm-publish": "npm publish --access public",
    "helm-install": "helm install serve ./chart",
    "helm-upgrade": "helm upgrade --install serve ./chart -f values.yaml",
    "kubectl-rollout": "kubectl rollout restart deployment/inference",
    "kubectl-set-image": "kubectl set image deployment/api api=me/api:v2",
    "kubectl-apply-service": "kubectl apply -f k8s/inference-service.yaml",
    "modal-deploy": "modal deploy app.py",
    "sky-serve": "sky serve up serve.yaml",
    "aws-s3-upload": "aws s3 cp model.safetensors s3://team-models/llama/",
    "aws-s3-sync": "aws s3 sync ./checkpoints s3://bucket/ckpts",
    "gsutil-upload": "gsutil cp -r out gs://bucket/models",
    "gh-release": "gh release create v1.0 dist/model.tar.gz",
    "poetry-publish": "poetry publish --build",
    "gcloud-run-deploy": "gcloud run deploy api --image gcr.io/p/api",
    "terraform-apply": "terraform apply -auto-approve",
    "dvc-push": "dvc push",
    "python-deploy-script": "python deploy.py --env prod",
}


@pytest.mark.parametrize("command", DEPLOYS.values(), ids=DEPLOYS.keys())
def test_publishing_is_deploy(command: str) -> None:
    result = shell(command)
    assert result.kind is Kind.DEPLOY
    if "python" not in command:
        assert "publish" in result.flags


NOT_DEPLOYS = {
    "hf-download": ("huggingface-cli download me/model", Kind.SHELL_EXEC),
    "s3-download": ("aws s3 cp s3://bucket/data.json .", Kind.FILE_WRITE),
    "docker-build": ("docker build -t me/server .", Kind.SHELL_EXEC),
    "helm-template": ("helm template ./chart", Kind.SHELL_EXEC),
    "kubectl-get": ("kubectl get pods -n prod", Kind.SHELL_EXEC),
    "twine-check": ("twine check dist/*", Kind.SHELL_EXEC),
    "helm-dry-run": ("helm upgrade serve ./chart --dry-run", Kind.SHELL_EXEC),
}


@pytest.mark.parametrize(("command", "kind"), NOT_DEPLOYS.values(), ids=NOT_DEPLOYS.keys())
def test_look_alikes_of_publishing_are_not_deploy(command: str, kind: Kind) -> None:
    assert shell(command).kind is kind


CODE_APPLIES = {
    "git-push": "git push",
    "git-push-origin": "git push origin feature/probe",
    "git-push-head-main": "git push origin HEAD:main",
    "git-push-upstream": "git push -u origin my-branch",
    "git-push-tags": "git push --tags",
    "git-c-push": "git -C ../other-repo push origin main",
    "checkout-main-merge": "git checkout main && git merge feat/probe",
    "switch-master-merge": "git switch master; git merge --no-ff fix",
    "gh-pr-merge": "gh pr merge 42 --squash",
    "gh-pr-merge-auto": "gh pr merge --auto --merge",
    "glab-mr-merge": "glab mr merge 7",
    "arc-land": "arc land",
    "hg-push": "hg push",
    "jj-git-push": "jj git push --all",
    "gh-api-merge": "gh api -X PUT repos/o/r/pulls/3/merge",
    "git-push-in-chain": "git add -A && git commit -m wip && git push",
}


@pytest.mark.parametrize("command", CODE_APPLIES.values(), ids=CODE_APPLIES.keys())
def test_changing_shared_history_is_code_apply(command: str) -> None:
    result = shell(command)
    assert result.kind is Kind.CODE_APPLY
    assert "shared_history" in result.flags


LOCAL_GIT = {
    "commit": "git commit -am 'fix loss'",
    "branch": "git branch feat/x",
    "checkout-b": "git checkout -b feat/x",
    "stash": "git stash pop",
    "rebase": "git rebase -i HEAD~3",
    "diff": "git diff HEAD~1",
    "log": "git log --oneline -5",
    "status": "git status",
    "merge-on-feature": "git checkout feat && git merge main",
    "merge-alone": "git merge feat/other",
    "push-dry-run": "git push --dry-run origin main",
    "push-help": "git push --help",
}


@pytest.mark.parametrize("command", LOCAL_GIT.values(), ids=LOCAL_GIT.keys())
def test_local_git_work_is_not_code_apply(command: str) -> None:
    # git diff/log/status only read (file.read); the rest is local shell work
    assert shell(command).kind in (Kind.SHELL_EXEC, Kind.FILE_READ)


@pytest.mark.parametrize(
    "command",
    [
        "git push --force origin main",
        "git push -f",
        "git push --force-with-lease",
        "git push origin +main",
    ],
)
def test_force_push_adds_the_force_flag(command: str) -> None:
    result = shell(command)
    assert result.kind is Kind.CODE_APPLY
    assert "force" in result.flags


def test_plain_push_has_no_force_flag() -> None:
    assert "force" not in shell("git push origin main").flags


FILE_WRITES = {
    "redirect": "echo hello > out.txt",
    "append": "echo 'lr=3e-4' >> notes.md",
    "heredoc": "cat <<EOF > config.yaml\nlr: 0.1\nEOF",
    "tee": "ls checkpoints | tee files.txt",
    "tee-append": "echo x | tee -a log.txt",
    "sed-i": "sed -i 's/lr=1e-3/lr=3e-4/' config.py",
    "cp": "cp model.py model_backup.py",
    "mv": "mv old.py new.py",
    "rm": "rm -rf outputs/",
    "touch": "touch src/__init__.py",
    "mkdir": "mkdir -p results/run1",
    "truncate": "truncate -s 0 app.log",
    "curl-o": "curl -L -o data.zip https://example.com/data.zip",
    "git-checkout-file": "git checkout -- src/model.py",
    "patch": "patch -p1 src/model.py fix.diff",
    "dd": "dd if=/dev/zero of=blob.bin bs=1M count=1",
}


@pytest.mark.parametrize("command", FILE_WRITES.values(), ids=FILE_WRITES.keys())
def test_writing_files_is_file_write(command: str) -> None:
    assert shell(command).kind is Kind.FILE_WRITE


READ_ONLY = {
    "ls": "ls -la",
    "cat": "cat README.md",
    "grep": "grep -rn 'def train' src/",
    "git-status": "git status",
    "cd-then-ls": "cd src && ls",
    "nvidia-smi": "nvidia-smi",
    "find": "find . -name '*.py'",
    "wc": "wc -l *.py",
    "redirect-dev-null": "ls > /dev/null 2>&1",
}


@pytest.mark.parametrize("command", READ_ONLY.values(), ids=READ_ONLY.keys())
def test_commands_that_only_read_are_file_read(command: str) -> None:
    assert shell(command).kind is Kind.FILE_READ


ORDINARY = {
    "pip-install": "pip install torch transformers",
    "pytest": "pytest -q tests/",
    "export-var": "export CUDA_VISIBLE_DEVICES=0,1",
    "source-venv": "source .venv/bin/activate",
    "python-c": "python -c 'import torch; print(torch.__version__)'",
    "oversight-review": "oversight review --last 10",
}


@pytest.mark.parametrize("command", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_commands_are_shell_exec(command: str) -> None:
    assert shell(command).kind is Kind.SHELL_EXEC


MODEL_CALLS = {
    "ollama-run": "ollama run llama3 'hello'",
    "llm-cli": "llm -m gpt-4o 'summarise this'",
    "curl-openai": "curl https://api.openai.com/v1/chat/completions -d @req.json",
}


@pytest.mark.parametrize("command", MODEL_CALLS.values(), ids=MODEL_CALLS.keys())
def test_model_clis_are_model_call(command: str) -> None:
    assert shell(command).kind is Kind.MODEL_CALL


@pytest.mark.parametrize(
    "command",
    ["git branch -f main feat", "git update-ref refs/heads/master HEAD", "git fetch . feat:main"],
)
def test_moving_main_directly_is_code_apply(command: str) -> None:
    assert shell(command).kind is Kind.CODE_APPLY


@pytest.mark.parametrize(
    "command",
    ["git branch -f scratch HEAD~1", "git fetch origin", "git update-ref refs/heads/wip HEAD"],
)
def test_moving_other_branches_is_local(command: str) -> None:
    assert shell(command).kind is Kind.SHELL_EXEC
