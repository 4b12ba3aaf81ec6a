"""The web search page: Jinja2 templates, static assets and render functions that turn API dicts into HTML."""
