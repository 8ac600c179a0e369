"""The paper's sections, one module each, in one shape (``section.Section``): ``linear``
(Section 5.1), ``identifiable`` (Section 5.2), ``mnist_svhn_text`` (Section 5.3). Each holds its
typed configuration per profile (``config``), its grid of runs, its evaluation, its paper tables
(``TABLES``, ``table_specs``) and the paper's claims about them (``CLAIMS``, ``claims``)."""
