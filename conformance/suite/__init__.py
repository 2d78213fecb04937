"""The shipped conformance suite, run by ``evs-conformance run`` or ``pytest --pyargs conformance.suite``.

Every test carries ``@pytest.mark.requirement(<ID>, ...)`` naming the catalogue requirements it exercises,
and uses the fixtures of ``conformance.plugin`` (``evs_target``, ``evs_verify``, ``evs_volumes``, ...); the
plugin merges what the tests observed into one verdict per requirement.
"""
