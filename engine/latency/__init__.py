"""Predicted on-device latency: phone profiles, reference nets, analytic models, calibration.

See ``/work/shared/reference/MFAGAN.md`` ("Latency model") and ``AIHUB.md`` for the public
measurements the models are calibrated on and what such a calibration can promise.
"""
