"""Words in text that are image references, and words that only look like the start of one."""

from __future__ import annotations

from tagmgr.filerefs.find import find_references


def words(text: str) -> list[str]:
    return [site.written for site in find_references("NOTES.txt", text).references]


def test_a_reference_with_a_slash_and_a_tag_or_digest() -> None:
    digest = "sha256:" + "a" * 64
    assert words(f"pull team/app:v1, then a/b@{digest}; see docs/guide or x:1.\n") == [
        "team/app:v1",
        f"a/b@{digest}",
    ]
    assert words("Build registry.example.com:5000/team/app:1.2.\n") == [
        "registry.example.com:5000/team/app:1.2"
    ]


def test_a_word_followed_by_a_variable_is_not_a_reference() -> None:
    """Its tag is known only once a shell fills the variable in: not shortened to what comes
    before the variable, and so never rewritten."""
    text = (
        "docker build --build-arg BASE=mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX} .\n"
        "docker run team/app:$TAG team/app:v1-${SUFFIX} team/app:{{ .Tag }}\n"
    )
    assert words(text) == []
