"""The `vigie` command line: parses arguments, calls the functions the workers call, prints text or JSON."""
