"""Pure DataFrame -> DataFrame steps: clean text and names, link records to papers."""
