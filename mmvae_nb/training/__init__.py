"""Training: the shared loss and Adam step (``step``), the device-resident vmapped trainer
(``trainer``) and the host-streaming trainer (``streaming``)."""
