"""Regressions (found by fuzz/): import files that raised csv.Error, ValueError,
RecursionError or TypeError instead of `ImportRejectedError` naming the place and the fix."""

from __future__ import annotations

import pytest

from ebr.imports import ImportRejectedError, read_entries


@pytest.mark.parametrize(
    ("name", "content", "where", "words"),
    [
        ("s.csv", b'product,serial\n"' + b"a" * 200_000 + b'"\n', "CSV", "field larger"),
        ("s.json", b'{"product": "p", "serials": ' + b"1" * 5000 + b"}", "document", "digits"),
        ("s.json", b"[" * 100_000, "document", "recursion"),
        ("s.json", b'{"product": "p", "serials": null}', "serials", "must be a list"),
        ("s.json", b'[{"product": "p", "codes": 7}]', "[0].codes", "not int"),
    ],
)
def test_a_malformed_import_file_is_rejected_with_its_place(
    name: str, content: bytes, where: str, words: str
) -> None:
    with pytest.raises(ImportRejectedError) as rejected:
        read_entries(name, content)
    (problem,) = rejected.value.problems
    assert problem.location == where
    assert words in problem.message
    assert problem.hint
