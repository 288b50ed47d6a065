"""The reverse path: LAP evidence (xAPI statements, report rows) -> award rules -> credentials.

inputs.py checks what the LAP routes accept; rules.py loads and validates the AWARD_RULES file;
evaluate.py decides, without side effects, which criteria evidence satisfies and whether a rule
fires; worker.py stores progress and awards through the ledger; check.py replays the LRS history.
Nothing is re-exported here: importing awards.inputs (the LAP routes) must not load the rules engine.
"""
