"""Classification caches are bounded in bytes: long texts are classified, not kept."""

from __future__ import annotations

from oversight.classify import Classifier
from oversight.classify.caching import MAX_CACHED_TEXT, text_cache
from oversight.classify.shell import parse_script


def test_long_texts_are_computed_each_time_and_short_ones_cached() -> None:
    calls: list[str] = []

    @text_cache(8)
    def measure(text: str) -> int:
        calls.append(text)
        return len(text)

    long = "x" * (MAX_CACHED_TEXT + 1)
    assert measure("ab") == measure("ab") == 2
    assert measure(long) == measure(long) == len(long)
    assert calls == ["ab", long, long]


def test_here_documents_do_not_fill_the_parse_cache() -> None:
    parse_script.cache_clear()  # type: ignore[attr-defined]
    classifier = Classifier()
    body = "y = 1\n" * 2_000
    for i in range(50):
        found = classifier.classify("Bash", {"command": f"cat > f{i}.py <<'EOF'\n{body}EOF"})
        assert found.kind.value == "file.write"
    assert parse_script.cache_info().currsize < 10  # type: ignore[attr-defined]
