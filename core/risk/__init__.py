"""Risk: trading state, limits, the order-rate throttle, the paper RMS (margins) and the pre-order risk engine.

Read :mod:`core.risk.engine` first: it is the one gate every order of the automation engine
passes, and it names the rule each refusal comes from.
"""
