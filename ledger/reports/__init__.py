"""Reports: the annual review, the regulator's query package and a data subject's report.

Each report is assembled from the service's reads into plain data, then turned into a
format-independent Document that the Markdown, HTML and PDF renderers share; CSV and JSON are
written from the underlying rows."""
