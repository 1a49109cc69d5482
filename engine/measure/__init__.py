"""Measurement: image metrics, the eval protocol, the teacher-vs-student bench."""
