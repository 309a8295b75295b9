"""Pages and API of the store inspections: visits, plans, scores and the checklist and
weight design pages.
"""
