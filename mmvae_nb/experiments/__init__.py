"""The paper's sections, one module each, in one shape (``section.Section``): ``linear``
(Section 5.1), ``identifiable`` (Section 5.2), ``mnist_svhn_text`` (Section 5.3). Each holds its
typed configuration per profile (``config``), its grid of runs, its evaluation, its paper tables
(``TABLES``, ``table_specs``), in ``<section>_figures`` its figures (``FIGURES``,
``figure_specs``), and in ``<section>_claims`` the paper's statements about them (``CLAIMS``,
``claims``); ``conclusion_claims`` holds the conclusion's, which rest on several sections."""
