"""authlint's rules: one module per rule, named after the rule.

This folder is installed as the subpackage `authlint.rules`; `authlint.registry` finds
every rule class defined in its modules.
"""
