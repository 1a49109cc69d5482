"""Hardware-aware NAS over MFA generators: the search space, the weight-sharing supernet and
its training (engine.nas.train), search (engine.nas.search) and fine-tuning of a pick."""
