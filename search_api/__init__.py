"""tracuu search side: query analysis, retrieval, answers, the HTTP API and the CLI."""
