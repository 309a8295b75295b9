"""Store-inspection (暗访) use cases: checklists and their weight profiles, the monthly
visit plan, visits from draft to review, appeal and rectification (整改), and scores.
"""
