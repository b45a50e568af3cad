"""Device simulators built on the real protocol libraries and our own sans-IO parsers."""
