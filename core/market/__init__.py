"""Market data: bar and tick types, instruments, loading with quality checks, resampling, synthetic data."""
