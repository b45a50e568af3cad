"""Console entry point `tracegate`."""

import sys


def main(argv: list[str] | None = None) -> int:
    del argv
    print("tracegate: not yet wired", file=sys.stderr)
    return 2
