"""Pure numerics of service quality: arrays and frames in, typed results out.

No I/O and no database here: every function can be used from a notebook.
Modules are flat, by statistical family (weights, ranking, reliability, plspm, …); each
declares its public names in ``__all__`` and is tested against an independent reference
in its mirror ``tests/methods/test_<module>.py``.

Bad input raises :class:`~sqm.methods._validation.MethodInputError` (a ``RuleError``) with
a message that names the argument and the rule. A matrix that a method inverts or solves
with is first checked by :func:`~sqm.methods._validation.check_well_conditioned`: its
condition number must not exceed ``MAX_CONDITION`` (1e12), so that a singular or nearly
singular input is refused from the matrix itself, the same on every machine, whether or
not the platform's LAPACK would have raised.
"""
