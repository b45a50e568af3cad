"""Device drivers: one sub-package per protocol; protocol library types never leave it."""
