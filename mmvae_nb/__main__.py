"""``python -m mmvae_nb``: the command line (``cli``)."""

from mmvae_nb.cli import main

main()
