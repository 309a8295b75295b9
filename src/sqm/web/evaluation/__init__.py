"""Pages and API of the evaluation: the indicator system, weight profiles and scores."""
