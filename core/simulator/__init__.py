"""The research path over history: fast and event-driven runs, costs, metrics, sweeps, walk-forward."""
