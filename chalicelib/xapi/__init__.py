"""xAPI: the vocabulary, statement building, validation and (later) the LRS client."""
