"""kinemic-aug: few-shot skeleton action synthesis (KineMIC) for graph-convolution classifiers.

Data flows through the sub-packages in this order:
``data`` → ``text`` → ``pairing`` / ``mining`` → ``generator`` → ``adapt`` → ``augmenter`` → ``har``.
"""
__version__ = "0.1.0"
