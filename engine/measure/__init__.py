"""Measurement: image metrics, the eval protocol, the teacher-vs-student bench."""

# The ways ``mfagan eval``/``publish`` turn HR photos into inputs (engine.measure.evaluate).
# Here, not there: the command line's choices need them without importing torch.
DEGRADATIONS = ("bicubic", "real")
