"""Model architectures, weight converters and the model registry."""
