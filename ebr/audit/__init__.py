"""Tamper-evident audit trail: hash chain, append-only triggers, signed checkpoints, verifier.

Kept free of imports so that `ebr.audit.verifier` can be loaded with only the standard library
and `cryptography` (an auditor's machine need not have the gateway's dependencies).
"""
