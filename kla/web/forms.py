"""Page forms. They check the shape of what a person typed; the services check the rules.

The per-category form is built from ``kla.details.FIELDS`` so that pages, API and the submit
check agree on what each category holds. Detail fields are named ``detail_<key>`` on the page;
``service_key`` and ``form_key`` translate between them and the services' ``details.<key>``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundWidget
from django.utils.translation import gettext_lazy as _

from kla.details import FIELDS, YearKind
from kla.drafting import DESCRIPTION_MAX, TITLE_MAX
from kla.models import (
    Body,
    Cluster,
    EvidenceKind,
    Indicator,
    Instruction,
    Requirement,
    Submission,
)
from workflows.services import NOTE_MAX

DETAIL_PREFIX = "detail_"


def form_key(service_key: str) -> str:
    """The page field for an error key of the services (``details.kind`` -> ``detail_kind``)."""
    if service_key.startswith("details."):
        return DETAIL_PREFIX + service_key.removeprefix("details.")
    return service_key


class SubmissionForm(forms.Form):
    """The fields every category shares, then the category's own details."""

    title = forms.CharField(label=_("Judul"), max_length=TITLE_MAX, required=False)
    description = forms.CharField(
        label=_("Uraian"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    years = forms.TypedMultipleChoiceField(
        label=_("Tahun"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    indicators = forms.TypedMultipleChoiceField(
        label=_("Indikator KLA"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        category: str,
        instruction: Instruction,
        bodies: list[Body] | None = None,
        submission: Submission | None = None,
        **kwargs: Any,
    ) -> None:
        if submission is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(submission)
        super().__init__(*args, **kwargs)
        self.category = category
        self.specs = FIELDS[category]
        indicators = list(Indicator.objects.order_by("number"))
        self.fields["indicators"].choices = [  # type: ignore[attr-defined]
            (i.number, f"{i.number}. {i.name}") for i in indicators
        ]
        self._clusters = {i.number: i.cluster for i in indicators}
        if bodies is not None and len(bodies) > 1:
            self.fields["agency"] = forms.ChoiceField(
                label=_("Perangkat/lembaga"),
                choices=[("", "---------"), *[(b.code, b.name) for b in bodies]],
            )
            self.order_fields(["agency"])
        if submission is not None:
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, min_value=0
            )
        years = [(y, str(y)) for y in instruction.years]
        self.fields["years"].choices = years  # type: ignore[attr-defined]
        for spec in self.specs:
            field = self.fields[DETAIL_PREFIX + spec.name] = spec.form_field()
            if spec.kind == YearKind.name:
                field.choices = [("", "---------"), *years]  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(submission: Submission) -> dict[str, Any]:
        """The form's starting values for an existing submission."""
        initial: dict[str, Any] = {
            "title": submission.title,
            "description": submission.description,
            "years": list(submission.years),
            "indicators": list(submission.indicators.values_list("number", flat=True)),
            "version": submission.version,
        }
        for spec in FIELDS[submission.category]:
            initial[DETAIL_PREFIX + spec.name] = spec.initial(submission.details.get(spec.name))
        return initial

    def indicator_clusters(self) -> list[tuple[str, list[BoundWidget]]]:
        """The indicators' checkboxes, one group per cluster (its name, then its indicators in
        number order), the clusters in the order of Perpres 25/2021."""
        order = {code: n for n, code in enumerate(Cluster.values)}
        labels = dict(Cluster.choices)
        groups: dict[str, list[BoundWidget]] = {}
        for widget in self["indicators"].subwidgets:
            cluster = self._clusters.get(int(widget.data["value"]), "")
            groups.setdefault(cluster, []).append(widget)
        ordered = sorted(groups, key=lambda code: (order.get(code, len(order)), code))
        return [(str(labels.get(code, code)), groups[code]) for code in ordered]

    def common_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(DETAIL_PREFIX)]

    def detail_fields(self) -> list[forms.BoundField]:
        return [self[DETAIL_PREFIX + spec.name] for spec in self.specs]

    def service_fields(self) -> dict[str, Any]:
        """What the services take: common fields and ``details`` with the API's keys."""
        data = self.cleaned_data
        details: dict[str, Any] = {}
        for spec in self.specs:
            value = data.get(DETAIL_PREFIX + spec.name)
            if value in (None, "", []):
                continue
            details[spec.name] = spec.from_form(value)
        return {
            "title": data.get("title", ""),
            "description": data.get("description", ""),
            "years": list(data.get("years") or []),
            "indicators": list(data.get("indicators") or []),
            "details": details,
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the services' field errors on the fields they name, the rest on the form."""
        for key, messages in errors.items():
            name = form_key(key)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


def requirement_choices(submission: Submission) -> list[tuple[str, list[tuple[str, str]]]]:
    """The requirements of the submission's indicators, grouped by indicator ("code label")."""
    groups: dict[str, list[tuple[str, str]]] = {}
    rows = Requirement.objects.filter(
        instruction_id=submission.instruction_id, indicator__submissions=submission
    ).select_related("indicator")
    for r in rows.order_by("indicator__number", "code"):
        group = f"{r.indicator.number}. {r.indicator.name}"
        groups.setdefault(group, []).append((r.code, f"{r.code} {r.label}"))
    return list(groups.items())


class CodesField(forms.Field):
    """The codes ticked, as they came: the service says which are not the submission's."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]


class EvidenceTagFields(forms.Form):
    """A file's kind and the requirements it serves. Only the shape is checked here: the
    service answers a kind or code it does not know, in the order rights come first."""

    kind = forms.CharField(
        label=_("Jenis bukti"),
        required=False,
        widget=forms.Select(choices=EvidenceKind.choices),
        initial=EvidenceKind.OTHER,
    )
    requirements = CodesField(label=_("Kebutuhan data dukung yang dipenuhi"), required=False)

    def __init__(
        self,
        *args: Any,
        choices: list[tuple[str, list[tuple[str, str]]]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``choices``: ``requirement_choices`` of the submission, read once per page."""
        super().__init__(*args, **kwargs)
        self.fields["requirements"].widget.choices = choices or []
        self.has_requirements = bool(choices)


class MultipleFileInput(forms.ClearableFileInput):
    """``<input type="file" multiple>``: several files in one POST."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """The files chosen, as a list (each checked by the service, one by one)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(d, initial) for d in files if d]


class EvidenceForm(EvidenceTagFields):
    """Evidence files with their kind and requirements: one kind (``kind``) for the whole
    batch, or each file its own (``kind_<n>``, the n-th file of the POST, 0 first: what the
    page's script sends). The files' type and size are checked by the service and the handler.
    """

    file = MultipleFileField(label=_("Berkas bukti dukung"), required=False)
    field_order = ["file", "kind", "requirements"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = _("Jenis bukti (untuk semua berkas)")
        self.saved: list[str] = []
        self.refused: list[tuple[str, str]] = []

    def kind_of(self, index: int) -> str | None:
        """The kind given for the ``index``-th file, else the batch's (``None``: not given)."""
        if self.is_bound:
            own = self.data.get(f"kind_{index}")
            if isinstance(own, str) and own:
                return own
        kind = self.cleaned_data.get("kind") if hasattr(self, "cleaned_data") else None
        return str(kind) if kind else None

    def batch_outcome(self, saved: list[str], refused: list[tuple[str, str]]) -> None:
        """What happened to each file of a batch with a refusal: shown beside the file field
        (each refused file by name, with the reason) and in the form's summary."""
        self.saved = saved
        self.refused = refused
        for name, reason in refused:
            self.add_error("file", f"{name}: {reason}")


class EvidenceTagForm(EvidenceTagFields):
    """Changing a current file's kind and requirements, with the version the person saw."""

    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class ActionForm(forms.Form):
    """A flow action with the version the person saw and the note some actions need."""

    action = forms.CharField(max_length=40)
    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Catatan"), required=False, max_length=NOTE_MAX, widget=forms.Textarea
    )
