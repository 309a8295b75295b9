"""Evaluation use cases: the indicator system and its weight profiles, the leaf values
that each capability's source producer contributes, and the period's scores, grades,
ranks with intervals and roll-ups up the org tree.
"""
