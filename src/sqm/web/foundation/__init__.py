"""Pages and API of the foundation: sign-in, home, the org tree, users and audit, imports,
and the org-unit API.
"""
