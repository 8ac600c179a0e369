"""What the paper profile's trainings cost on a GPU, before any runs (issue 41).

* ``programs``  what groups trainings into one program (``cost_class``, ``program_key``) and
                how many Adam steps each takes at the paper's settings (``paper_steps``);
* ``tables``    the committed measurements the plan reads: XLA's FLOPs and compiled memory
                per cost class, measured GPU seconds per step;
* ``cost``      the cost model of a program's step on one H100, each constant labelled
                measured, estimated or datasheet, with its source;
* ``packing``   how many programs share one device (memory) and in which order they start;
* ``plan``      the plan per section (``python -m mmvae_nb.launch --plan``) and the committed
                copies of it (README block, ``reference/paper_gpu_plan.csv``).

Nothing here compiles or trains: the plan runs in seconds from committed tables.
"""
