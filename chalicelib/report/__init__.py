"""`python -m chalicelib report`: what the LRS says about the organisation's credentials.

history.py reads the LRS page by page; facts.py reads one statement; ledger.py keeps the state
of each credential (the only thing held in memory besides the counts); preceding.py relates
learning activities to the credentials earned after them; answers.py turns all that into tables;
render_text.py, render_csv.py and render_html.py (with svg.py) print or write them.
"""
