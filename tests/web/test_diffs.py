"""Edit calls become diff lines: replacements, lists of edits, whole files, patches."""

from __future__ import annotations

from oversight.web.diffs import MAX_LINES, DiffLine, edit_diffs


def ops(lines: tuple[DiffLine, ...]) -> list[tuple[str, str]]:
    return [(line.op, line.text) for line in lines]


def test_a_replacement_is_a_diff_of_old_and_new() -> None:
    [diff] = edit_diffs(
        "file.write",
        {
            "file_path": "train.py",
            "old_string": "a = 1\nb = 2\nc = 3",
            "new_string": "a = 1\nb = 5\nc = 3",
        },
    )
    assert diff.path == "train.py"
    assert ops(diff.lines) == [
        ("hunk", "@@ -1,3 +1,3 @@"),
        ("ctx", "a = 1"),
        ("del", "b = 2"),
        ("add", "b = 5"),
        ("ctx", "c = 3"),
    ]


def test_str_replace_editor_arguments_are_read_too() -> None:
    [diff] = edit_diffs(
        "file.write",
        {"command": "str_replace", "path": "/repo/eval.py", "old_str": "x", "new_str": "y"},
    )
    assert diff.path == "/repo/eval.py"
    assert ("del", "x") in ops(diff.lines) and ("add", "y") in ops(diff.lines)


def test_each_edit_of_a_multi_edit_is_its_own_diff() -> None:
    diffs = edit_diffs(
        "file.write",
        {
            "file_path": "cfg.yaml",
            "edits": [
                {"old_string": "lr: 0.1", "new_string": "lr: 1.0"},
                {"old_string": "steps: 5", "new_string": "steps: 50"},
            ],
        },
    )
    assert [d.path for d in diffs] == ["cfg.yaml", "cfg.yaml"]
    assert [ops(d.lines)[-1] for d in diffs] == [("add", "lr: 1.0"), ("add", "steps: 50")]


def test_an_apply_patch_inside_a_shell_command_is_split_by_file() -> None:
    command = (
        "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: src/model.py\n@@ def loss():\n"
        "-    return a\n+    return a + b\n*** Add File: notes.md\n+hello\n*** End Patch\nEOF"
    )
    diffs = edit_diffs("file.write", {"command": command})
    assert [d.path for d in diffs] == ["src/model.py (update)", "notes.md (add)"]
    assert ops(diffs[0].lines) == [
        ("hunk", "@@ def loss():"),
        ("del", "    return a"),
        ("add", "    return a + b"),
    ]
    assert ops(diffs[1].lines) == [("add", "hello")]


def test_a_unified_diff_argument_is_read_as_a_patch() -> None:
    patch = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new\n"
    [diff] = edit_diffs("code.apply", {"patch": patch})
    assert diff.path == "x.py"
    assert ops(diff.lines) == [("hunk", "@@ -1 +1 @@"), ("del", "old"), ("add", "new")]


def test_a_whole_file_write_is_all_additions_and_long_ones_are_cut() -> None:
    content = "\n".join(f"line {i}" for i in range(MAX_LINES + 5))
    [diff] = edit_diffs("file.write", {"file_path": "big.txt", "content": content})
    assert len(diff.lines) == MAX_LINES and diff.cut == 5
    assert {line.op for line in diff.lines} == {"add"}


def test_calls_that_are_not_edits_have_no_diff() -> None:
    assert edit_diffs("shell.exec", {"command": "ls -la"}) == []
    assert edit_diffs("file.read", {"file_path": "a.py", "content": "x"}) == []
    assert edit_diffs("file.write", {"old_string": 3, "new_string": None}) == []
