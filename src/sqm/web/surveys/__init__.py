"""Pages of the customer surveys: analysts' pages, survey design and the customers'
public phone page.
"""
