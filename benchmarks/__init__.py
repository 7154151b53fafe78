"""Scale benchmarks: they print figures; BENCHMARKS.md records them. No timing asserts."""
