"""MFAGAN Studio engine: super-resolution models and jobs, with no GUI dependency."""

__version__ = "0.1.0"
