"""The KLA domain and site: instruction, bodies, indicators, submissions, pages and API."""

from kla.celery import app as celery_app

__all__ = ("celery_app",)
