"""The built-in experiments, run by name: ``cdl train fonts`` (see ``runtime.experiment``)."""
