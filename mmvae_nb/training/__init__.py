"""Training: a training's settings (``config.TrainConfig``, its optimisation in
``optim.OptimConfig``), the shared loss and Adam step (``step``), the device-resident vmapped
trainer (``trainer``, with same-shape trainings as one program) and the streaming trainer
(``streaming``: batches drawn per epoch, gathered on the device where the data fit,
``placement``, ``streamed_epochs``; same-shape ones as one program, ``streaming_together``);
what every training does around its loop (``lifecycle``: cache lookup, checkpoints, save);
trainings collected instead of run (``collection``); the results cache (``cache``) and the
checkpoints of trainings in progress (``checkpoints``)."""
