"""xAPI: the vocabulary, statement building, validation and the LRS client."""

Statement = dict  # a JSON object the strict validator accepted (xapi/validate.py)
