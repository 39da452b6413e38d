// StageKit: see docs/ARCHITECTURE.md for what this module owns.
