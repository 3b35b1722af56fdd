"""kinemic-aug: few-shot skeleton action synthesis (KineMIC) for graph-convolution classifiers.

Data flows through the sub-packages in this order:
``skeleton`` / ``data`` → ``text`` → ``pairing`` / ``mining`` → ``generator`` → ``adapt`` → ``synthesis`` →
``augmenter`` → ``integrations`` (and ``har``, which never needs the augmenter); see ``docs/architecture.md``.
"""
__version__ = "0.1.0"
