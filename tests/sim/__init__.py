"""A seeded, replayable simulation of many groups under faults, with an invariant checker.

`python -m tests.sim --seeds 0-199` runs seeds through the fast, deterministic tier;
`python -m tests.sim --seed N --verbose` replays one and prints its story; `--real` runs them
through the second tier, the real discord.py client against the emulator (real.py). See
README.md, "Simulation".
"""
