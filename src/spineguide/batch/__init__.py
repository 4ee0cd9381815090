"""Batch extraction jobs and executors (`spineguide batch`)."""
