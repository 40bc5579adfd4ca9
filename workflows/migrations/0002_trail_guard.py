"""The append-only guard on the trail (see ``workflows.trail.guard``)."""

from django.db import migrations


def install(apps, schema_editor):
    from workflows.trail import guard

    guard.install(schema_editor.connection)


def remove(apps, schema_editor):
    from workflows.trail import guard

    guard.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
