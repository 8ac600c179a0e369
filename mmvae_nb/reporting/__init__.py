"""Reporting: reproduced tables (CSV + Markdown in the paper's layout beside the published
numbers), figures without timestamps, and the scorecard (cells and claims)."""
