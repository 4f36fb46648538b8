"""The AI orchestrator: four modes of autonomy over the deterministic scheduler.

    modes.py       the stored mode and the kill switch
    features.py    the feature table (finished leases and each node's history)
    predictors.py  runtime and reliability predictors, with held-out errors
    policy.py      pure decisions: Full's pick, stragglers, Advisory's advice
    advice.py      stored recommendations an admin applies or dismisses
"""
