"""Instructions as data: issuer, in force from, reporting years, addressees, follow-up days;
the instruction of each export; the instruction each person chose to see; the seed's names."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    # Until now an instruction asked about its year and the two before it, of every body.
    Instruction = apps.get_model("kla", "Instruction")
    Body = apps.get_model("kla", "Body")
    bodies = list(Body.objects.filter(active=True).values_list("pk", flat=True))
    for instruction in Instruction.objects.all():
        instruction.effective_on = instruction.issued_on
        if not instruction.years:
            instruction.years = [instruction.year - 2, instruction.year - 1, instruction.year]
        instruction.save(update_fields=["effective_on", "years"])
        instruction.addressees.set(bodies)
    for body in Body.objects.all():
        body.seeded_name = body.name
        body.save(update_fields=["seeded_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("kla", "0003_idempotent_request"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="instruction",
            options={
                "ordering": ["-year", "-number"],
                "verbose_name": "instruksi",
                "verbose_name_plural": "instruksi",
            },
        ),
        migrations.AddField(
            model_name="instruction",
            name="issuer",
            field=models.CharField(
                blank=True,
                help_text="misalnya Wali Kota",
                max_length=200,
                verbose_name="yang menetapkan",
            ),
        ),
        migrations.AddField(
            model_name="instruction",
            name="effective_on",
            field=models.DateField(blank=True, null=True, verbose_name="berlaku sejak"),
        ),
        migrations.AddField(
            model_name="instruction",
            name="years",
            field=models.JSONField(
                default=list,
                help_text="Daftar tahun, misalnya [2024, 2025]",
                verbose_name="tahun pelaporan",
            ),
        ),
        migrations.AddField(
            model_name="instruction",
            name="addressees",
            field=models.ManyToManyField(
                blank=True, related_name="instructions", to="kla.body", verbose_name="yang dituju"
            ),
        ),
        migrations.AddField(
            model_name="instruction",
            name="follow_up_days",
            field=models.PositiveSmallIntegerField(
                default=60, verbose_name="hari tindak lanjut temuan"
            ),
        ),
        migrations.AlterField(
            model_name="instruction",
            name="year",
            field=models.PositiveIntegerField(
                validators=[
                    django.core.validators.MinValueValidator(2000),
                    django.core.validators.MaxValueValidator(2100),
                ],
                verbose_name="tahun",
            ),
        ),
        migrations.AddField(
            model_name="body",
            name="seeded_name",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.AlterField(
            model_name="body",
            name="email",
            field=models.EmailField(
                blank=True,
                help_text="Menerima pengingat dan pemberitahuan bila belum ada operator.",
                max_length=254,
                verbose_name="surel",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="instruction",
            name="effective_on",
            field=models.DateField(
                blank=True,
                help_text="Kosong: sejak tanggal ditetapkan. Draf dapat dibuat mulai tanggal ini.",
                verbose_name="berlaku sejak",
            ),
        ),
        migrations.AddField(
            model_name="export",
            name="instruction",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="kla.instruction",
            ),
        ),
        migrations.CreateModel(
            name="Preference",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "instruction",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="kla.instruction",
                    ),
                ),
            ],
            options={"verbose_name": "preferensi", "verbose_name_plural": "preferensi"},
        ),
    ]
