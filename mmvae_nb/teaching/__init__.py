"""Pictures and exact toy models for the notebooks' "The idea" sections (issue #17).

Each module holds one idea of Section 3 of the paper, computed live in seconds: the exact
linear-Gaussian model whose PoE encoder is the exact posterior, the gap of the masked bound
(eq. 4-5) and of the mixture bound (eq. 1) to log p(x), the aggregators' posteriors in 2-D and
the subset distribution rho. The package sits above ``objectives``, ``models`` and
``evaluation``; nothing in the library imports it, only the notebooks and the tests.
"""
