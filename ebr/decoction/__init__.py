"""Decoction pieces (中药饮片) records after seed 001 annex 1 (`docs/ebr.md`)."""
