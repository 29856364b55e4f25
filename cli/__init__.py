"""The `budget` command line: thin wrappers over solvers/, db/ (and later flows/)."""
