"""The experiments: ``registry.EXPERIMENTS`` lists them, one package each in one shape
(``base.Experiment``): ``linear`` (Section 5.1), ``identifiable`` (Section 5.2: the
``aux_label`` and ``five_modalities`` experiments), ``mnist_svhn_text`` (Section 5.3) and
``relational`` (Sutter & Vogt). A package holds its typed configuration per profile
(``config``), the experiment (grid of runs, training, evaluation, paper tables ``TABLES``), its
figures (``figures.FIGURES``, ``figure_specs``) and the paper's statements about them
(``claims.CLAIMS``, checked by ``checks`` and ``claims``); ``conclusion`` holds the conclusion's
claims, which rest on several experiments. Beside them, the framework they share: ``base``,
``configs``, ``table_specs``, ``figure_specs``, ``figure_layout``, ``parameters`` (notebook
parameters), ``profile_rules`` and ``sanity``."""
