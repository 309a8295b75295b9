"""Network-quality use cases: KPIs from counters (DuckDB or Spark), store KPIs for the
scorecard, rule sets, early-warning watches and the alerts they raise.
"""
