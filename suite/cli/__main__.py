"""``python -m suite.cli``: the same as the ``llmsuite`` script."""

from suite.cli import main

main()
