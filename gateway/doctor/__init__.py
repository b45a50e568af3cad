"""`tracegate doctor`: self-check and fault diagnosis, one verdict per item (seed 001 §(一)7)."""

from gateway.doctor.context import DoctorOptions, ReferenceClock
from gateway.doctor.registry import CHECKS, run_doctor
from gateway.doctor.verdict import Status, Verdict, exit_code

__all__ = [
    "CHECKS",
    "DoctorOptions",
    "ReferenceClock",
    "Status",
    "Verdict",
    "exit_code",
    "run_doctor",
]
