"""The planned creates: few combined valid bodies that reach every requirement needing a snapshot made.

``classes`` says which classes of valid value each field may carry (read from the contract), ``plan`` puts
them into about six bodies, ``split`` finds which class a target refused when it refuses one, and ``cost``
estimates what the plan takes on a cloud that makes one snapshot of a disk at a time. The suite's
``test_create_plan.py`` sends them.
"""
