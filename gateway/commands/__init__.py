"""The `tracegate` sub-commands, one module each."""
