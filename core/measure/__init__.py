"""What the pairs say: pairs and the pair table, the judge and human review, accuracy, the
threshold with a guarantee, production estimates, drift, the report and what-if projections.

Imports the shared basics, ``core.log`` and ``core.route``."""
