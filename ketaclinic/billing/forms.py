"""Billing forms: input shapes only; every rule is in the services."""

from decimal import Decimal

from django import forms

from ketaclinic.billing.models import DESK_METHODS, DepositOutcome, PackageRefundRule, ServiceKey

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.00")}


class DateInput(forms.DateInput):
    input_type = "date"


class PriceForm(forms.Form):
    service_key = forms.ChoiceField(label="Service", choices=ServiceKey.choices)
    code = forms.CharField(label="CPT/HCPCS code", max_length=10, required=False)
    name = forms.CharField(label="Name on the bill", max_length=150, required=False)
    unit_price = forms.DecimalField(label="Price", **MONEY)  # type: ignore[arg-type]
    sessions = forms.IntegerField(label="Sessions (packages)", min_value=1, max_value=52, initial=1)
    taxable = forms.BooleanField(required=False)
    effective_from = forms.DateField(label="In force from", widget=DateInput)


class SettingsForm(forms.Form):
    currency = forms.CharField(max_length=3, initial="USD")
    tax_rate_percent = forms.DecimalField(
        label="Tax rate (%)", max_digits=5, decimal_places=2, min_value=Decimal(0)
    )
    deposit_amount = forms.DecimalField(label="Deposit to book", **MONEY)  # type: ignore[arg-type]
    no_show_fee_amount = forms.DecimalField(label="No-show fee", **MONEY)  # type: ignore[arg-type]
    package_refund_rule = forms.ChoiceField(
        label="Cancelled package refunds", choices=PackageRefundRule.choices
    )
    payment_due_days = forms.IntegerField(label="Invoices due after (days)", min_value=0, max_value=365)


class EstimateForm(forms.Form):
    scheduled_on = forms.DateField(label="Booked or asked on", widget=DateInput)
    service_starts_on = forms.DateField(
        label="First service on",
        widget=DateInput,
        required=False,
        help_text="Leave empty when the patient asked about cost before booking.",
    )


class AcknowledgeForm(forms.Form):
    signer_name = forms.CharField(label="Name of the person acknowledging", max_length=200)


class InvoiceForm(forms.Form):
    """The visits and proposed lines to bill: `lines` holds "visit_id:service_key" of the lines kept."""

    visits = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple)
    lines = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple, required=False)
    sliding_scale_percent = forms.DecimalField(
        label="Sliding-scale discount (%)",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        initial=Decimal(0),
    )

    def __init__(
        self,
        *args: object,
        visit_choices: list[tuple[str, str]],
        line_choices: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["visits"].choices = visit_choices  # type: ignore[attr-defined]
        self.fields["lines"].choices = line_choices  # type: ignore[attr-defined]


class PaymentForm(forms.Form):
    method = forms.ChoiceField(choices=DESK_METHODS)
    amount = forms.DecimalField(**MONEY)  # type: ignore[arg-type]
    received_on = forms.DateField(widget=DateInput)
    reference = forms.CharField(
        max_length=80, required=False, help_text="Terminal slip, cheque or plan number."
    )


class DepositForm(forms.Form):
    method = forms.ChoiceField(choices=DESK_METHODS)
    amount = forms.DecimalField(**MONEY)  # type: ignore[arg-type]
    received_on = forms.DateField(widget=DateInput)
    reference = forms.CharField(
        max_length=80, required=False, help_text="Terminal slip, cheque or plan number."
    )


class SettleDepositForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (DepositOutcome.REFUNDED.value, "Refund"),
            (DepositOutcome.FORFEITED.value, "Keep (clinic's no-show rule)"),
        ]
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class RefundForm(forms.Form):
    amount = forms.DecimalField(**MONEY)  # type: ignore[arg-type]
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class PeriodForm(forms.Form):
    start = forms.DateField(widget=DateInput)
    end = forms.DateField(widget=DateInput)
    visit = forms.IntegerField(required=False, widget=forms.HiddenInput)
    insured_name = forms.CharField(label="Insured's name", max_length=150, required=False)
    insurer = forms.CharField(max_length=150, required=False)
    member_id = forms.CharField(label="Member ID", max_length=60, required=False)


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)
