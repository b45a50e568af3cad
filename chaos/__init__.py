"""The reliability campaign: faults against the whole simulated line, invariants after each
trial, a JSON report (`make chaos`), and the soak (`make soak`). See docs/reliability.md."""
