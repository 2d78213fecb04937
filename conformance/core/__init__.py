"""The lowest layer: what every other layer speaks in.

One request and its answer (``exchange``), their HAR form (``recording``), secrets masked in every encoding
(``redaction``), the verdict words and their order (``verdicts``), user input checked (``inputs``) and shown
escaped (``display``), and the errors the tool raises (``errors``). Nothing here knows the contract.
"""
