"""Predicted on-device latency: phone profiles, reference nets, analytic models, calibration.

See docs/MFAGAN.md ("Latency model") for the public
measurements the models are calibrated on and what such a calibration can promise.
"""
