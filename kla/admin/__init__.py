"""The Django admin for administrators, one module a subject; Django's autodiscovery loads it.

The admin is a page of its own (the top layer): records that change only through the
services (submissions, evidence, the trail, timers) are read-only here.
"""

from kla.admin import domain, memberships, readonly, sla, tokens, trail

__all__ = ["domain", "memberships", "readonly", "sla", "tokens", "trail"]
