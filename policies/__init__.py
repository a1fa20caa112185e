"""The shipped policy packs, as package data: installed as `oversight.packs` (see pyproject.toml).

Nothing to import here; `oversight.policy.loader` reads the YAML files beside this one through
`importlib.resources`, which finds them in a wheel, an editable install and `pip install --user`.
"""
