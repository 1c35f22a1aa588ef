"""One router per resource: search (and facets), articles, feeds, system (health, metrics), pages."""
