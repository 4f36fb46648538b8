"""The AI orchestrator: four modes of autonomy over the deterministic scheduler.

    modes.py       the stored mode and the kill switch (and the lease path's cached read)
    features.py    the feature table (finished leases and each node's history)
    predictors.py  runtime and reliability predictors, with held-out errors
    policy.py      pure decisions: Full's pick, stragglers, the live lease bound, advice
    advice.py      stored recommendations an admin applies or dismisses
    actions.py     what may be done to live work: spare replicas, raised replication
    live.py        the periodic pass over live traffic (beside the expiry reaper)
    hook.py        the one call leasing.py makes: size-aware order in Full
"""
