"""Data generators and loaders, one module per paper section."""
