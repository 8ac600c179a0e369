"""Training: the shared loss and Adam step (``step``), the device-resident vmapped trainer
(``trainer``) and the host-streaming trainer (``streaming``); the results cache (``cache``) and
the checkpoints of trainings in progress (``checkpoints``)."""
