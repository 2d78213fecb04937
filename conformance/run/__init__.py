"""What a run is given and what it keeps, below the wire and the reports.

The one option table (``options``), its sources resolved (``config``: command line, environment, config
file, defaults), the frozen settings built from them (``settings``), credentials and tokens (``auth``),
waiver files (``waivers``), the create journal (``journal``) and the files a run may touch in its reports
folder (``reportsdir``).
"""
