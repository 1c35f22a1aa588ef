"""The only package that knows Celery: the app, the tasks, retries, dead letters and the poll schedule.

Each task is a thin function that calls ingest/ and index/: fetch, analyze, store, notify.
"""
