"""The Phone tab: the "Compress for my phone" wizard and the advanced Search and Export pages.

The wizard walks six steps (step_*.py), each running engine generators in workers
(jobs.py) and keeping what it found in a state folder under the app's data dir (state.py),
so the wizard reopens where it stopped. The Search and Export pages of the advanced panel are
the wizard's own step widgets, used standalone for any existing model.
"""
