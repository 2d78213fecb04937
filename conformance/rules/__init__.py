"""What the contract means for a request, as pure functions over plain data (no HTTP, no files).

``oracle`` says what a request must get (accept, refuse how, or either); ``checks`` judge an answer;
``strategies`` draw cases for Hypothesis; ``near_misses`` are the smallest accepted body changed in one
place; ``creates`` are the few planned bodies that reach every requirement needing a snapshot, and how a
refused one is split.
"""
