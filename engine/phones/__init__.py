"""Phones: device profiles, reference nets, analytic latency models, calibration, adb.

See docs/PHONES.md for the public measurements the models are calibrated on, how the
profiles are built, and what such a calibration can promise.
"""
