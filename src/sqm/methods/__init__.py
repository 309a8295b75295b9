"""Pure numerics of service quality: arrays and frames in, typed results out.

No I/O and no database here: every function can be used from a notebook.
Modules are flat, by statistical family (weights, ranking, reliability, plspm, …),
and each is tested against an independent reference under ``tests/methods``.
"""
