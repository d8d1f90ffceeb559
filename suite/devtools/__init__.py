"""Checks a maintainer runs on the tree itself (not part of any stage).

- ``imports``  the import rules of docs/design.md: no cycles, no stage importing another stage
"""
