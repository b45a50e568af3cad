"""Fuzz harnesses for every parser of outside input (issue 12, docs/fuzzing.md).

Each harness is a plain `fuzz_<target>(data: bytes) -> None`: it raises only when the target
breaks its contract (an undocumented exception, a broken invariant or round trip), so the same
function serves hypothesis (`tests/fuzz/`) and atheris (`fuzz/run.py`). Not a product layer.
"""
