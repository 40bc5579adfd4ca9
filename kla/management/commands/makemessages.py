"""Django's ``makemessages``, finding the strings marked with ``gettext_lazy as _l`` too.

xgettext knows ``_`` and ``gettext_lazy`` by name, not the ``_l`` alias the forms, flow
labels and notification titles use; without this, ``makemessages --no-obsolete`` would drop
their translations from the catalogue.
"""

from __future__ import annotations

from django.core.management.commands.makemessages import Command as DjangoMakeMessages


class Command(DjangoMakeMessages):
    xgettext_options = [*DjangoMakeMessages.xgettext_options, "--keyword=_l"]
