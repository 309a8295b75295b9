"""Customer-survey use cases: instruments and their versions, waves with quotas, links
and QR codes, the customers' submissions, imports and exports, analysis and reports.
"""
