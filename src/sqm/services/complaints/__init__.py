"""Complaint use cases: intake from every channel against time limits, handling, file
imports, the category model, hotspots and their alerts.
"""
