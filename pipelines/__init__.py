"""paperlake: scraped research-paper listings to an analytic warehouse."""

__version__ = "0.1.0"
